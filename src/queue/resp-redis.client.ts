import { ConnectionClosedError, type IRedisClient, type IRedisTransaction } from 'bullmq';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { encodeCommand, RedisReplyError, RespParser, type RespArg, type RespValue } from './resp.codec';

export interface RespRedisClientOptions {
  /** Sent as `CLIENT SETNAME` on every (re)connect; BullMQ names its worker connections. */
  connectionName?: string;
  /** Do not connect in the constructor; the first command (or `connect()`) does. */
  lazyConnect?: boolean;
}

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
  /** Error replies resolve as values (MULTI/EXEC and pipelines collect them per command). */
  raw: boolean;
}

interface Script {
  sha: string;
  lua: string;
  numberOfKeys: number;
}

interface Endpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** Retry after 1 s, then e^n ms, at most 20 s (BullMQ's own retry strategy for ioredis). */
const reconnectDelay = (attempt: number) => Math.max(Math.min(Math.exp(attempt), 20_000), 1000);

/**
 * A small Redis client implementing BullMQ's {@link IRedisClient} port over one
 * TCP (or TLS) connection with pipelining.
 *
 * Why not ioredis: BullMQ 6 made its Redis client an optional peer dependency,
 * and this project does not ship one; BullMQ drives any object with this
 * interface (as it does node-redis and Bun's client through adapters of the same
 * shape). The behaviour follows what BullMQ expects of ioredis: commands issued
 * before the connection is ready wait in an offline queue; a dropped connection
 * rejects what was in flight with {@link ConnectionClosedError} and reconnects
 * with backoff; `disconnect()` ends it for good (until `connect()` is called
 * again). Lua scripts run by `EVALSHA`, falling back to `EVAL` on `NOSCRIPT`.
 */
export class RespRedisClient extends EventEmitter implements IRedisClient {
  /** ioredis vocabulary: wait, connecting, connect, ready, reconnecting, end. */
  status = 'wait';
  readonly isCluster = false;
  options: Record<string, any>;

  private readonly endpoint: Endpoint;
  private socket?: Socket;
  private readonly parser = new RespParser((value) => this.onReply(value));
  private inflight: Pending[] = [];
  private offline: Array<{ payload: Buffer; pendings: Pending[] }> = [];
  private readonly scripts = new Map<string, Script>();
  private loadedShas = new Set<string>();
  private connecting?: Promise<void>;
  private reconnectTimer?: NodeJS.Timeout;
  private attempts = 0;
  /** Set by disconnect()/quit(): a closed socket ends the client instead of reconnecting. */
  private ending = false;

  constructor(
    readonly url: string,
    private readonly clientOptions: RespRedisClientOptions = {},
  ) {
    super();
    this.endpoint = parseRedisUrl(url);
    this.options = {
      host: this.endpoint.host,
      port: this.endpoint.port,
      db: this.endpoint.db,
      connectionName: clientOptions.connectionName,
    };
    if (!clientOptions.lazyConnect) this.connect().catch(() => undefined);
  }

  // ---- connection lifecycle -------------------------------------------------------------------

  connect(): Promise<void> {
    if (this.status === 'ready') return Promise.resolve();
    if (this.connecting) return this.connecting;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.ending = false;
    this.status = 'connecting';
    this.connecting = new Promise<void>((resolve, reject) => {
      const { host, port, tls } = this.endpoint;
      const socket = tls ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
      this.socket = socket;
      this.parser.reset();
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.connecting = undefined;
        reject(error);
      };
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      socket.on('data', (chunk: Buffer) => {
        try {
          this.parser.feed(chunk);
        } catch (error) {
          socket.destroy(error as Error);
        }
      });
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        this.status = 'connect';
        this.handshake().then(
          () => {
            settled = true;
            this.connecting = undefined;
            this.attempts = 0;
            this.status = 'ready';
            this.flushOffline();
            this.emit('ready');
            resolve();
          },
          (error: Error) => {
            // e.g. WRONGPASS: say why, then retry like any failed connect.
            fail(error);
            this.emitError(error);
            socket.destroy();
          },
        );
      });
      socket.on('error', (error: Error) => {
        fail(error);
        if (!this.ending) this.emitError(error);
      });
      socket.once('close', () => {
        fail(new ConnectionClosedError());
        this.onSocketClosed(socket);
      });
    });
    return this.connecting;
  }

  disconnect(reconnect = false): void {
    if (reconnect) {
      this.socket?.destroy();
      return;
    }
    this.ending = true;
    this.status = 'end';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.socket) {
      this.socket.destroy();
    } else {
      this.rejectAll(this.takeOffline());
      this.emit('close');
      this.emit('end');
    }
  }

  async quit(): Promise<string> {
    if (this.ending || this.status === 'end' || !this.socket) {
      this.disconnect();
      return 'OK';
    }
    this.ending = true;
    const socket = this.socket;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (this.status === 'ready') {
      await this.call('QUIT').catch(() => undefined);
      socket.end();
    } else {
      socket.destroy();
    }
    await closed;
    return 'OK';
  }

  duplicate(overrides?: RespRedisClientOptions): RespRedisClient {
    const copy = new RespRedisClient(this.url, { ...this.clientOptions, ...overrides });
    for (const [name, script] of this.scripts) copy.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    return copy;
  }

  private async handshake(): Promise<void> {
    const { username, password, db } = this.endpoint;
    const steps: RespArg[][] = [];
    if (password !== undefined) steps.push(username ? ['AUTH', username, password] : ['AUTH', password]);
    if (db !== 0) steps.push(['SELECT', db]);
    if (this.clientOptions.connectionName) steps.push(['CLIENT', 'SETNAME', this.clientOptions.connectionName]);
    this.loadedShas = new Set();
    // Written directly: the offline queue waits until these are done.
    await Promise.all(steps.map((args) => this.write([args], false)[0]));
  }

  private onSocketClosed(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.connecting = undefined;
    this.rejectAll(this.inflight.splice(0));
    this.emit('close');
    if (this.ending) {
      this.status = 'end';
      this.rejectAll(this.takeOffline());
      this.emit('end');
      return;
    }
    this.status = 'reconnecting';
    const delay = reconnectDelay(++this.attempts);
    this.emit('reconnecting', delay);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().catch(() => undefined);
    }, delay);
    this.reconnectTimer.unref();
  }

  private emitError(error: Error): void {
    // An 'error' event without a listener would throw; BullMQ listens, a bare client may not.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  // ---- sending commands -----------------------------------------------------------------------

  /** Sends one command; an error reply rejects. */
  call(...args: RespArg[]): Promise<any> {
    return this.send([args], false)[0];
  }

  /** Sends commands in one write; with `raw`, error replies resolve as {@link RedisReplyError} values. */
  send(commands: RespArg[][], raw: boolean): Array<Promise<RespValue>> {
    if (this.status === 'ready' && this.socket) return this.write(commands, raw);
    const { pendings, promises } = makePendings(commands.length, raw);
    if (this.ending || this.status === 'end') {
      this.rejectAll(pendings);
      return promises;
    }
    this.offline.push({ payload: Buffer.concat(commands.map(encodeCommand)), pendings });
    if (this.status === 'wait') this.connect().catch(() => undefined);
    return promises;
  }

  private write(commands: RespArg[][], raw: boolean): Array<Promise<RespValue>> {
    const { pendings, promises } = makePendings(commands.length, raw);
    this.inflight.push(...pendings);
    this.socket!.write(Buffer.concat(commands.map(encodeCommand)));
    return promises;
  }

  private flushOffline(): void {
    for (const { payload, pendings } of this.offline.splice(0)) {
      this.inflight.push(...pendings);
      this.socket!.write(payload);
    }
  }

  private takeOffline(): Pending[] {
    return this.offline.splice(0).flatMap((entry) => entry.pendings);
  }

  private rejectAll(pendings: Pending[]): void {
    for (const pending of pendings) pending.reject(new ConnectionClosedError());
  }

  private onReply(value: RespValue): void {
    const pending = this.inflight.shift();
    if (!pending) {
      this.socket?.destroy(new Error('Redis protocol error: a reply nobody asked for'));
      return;
    }
    if (value instanceof RedisReplyError && !pending.raw) pending.reject(value);
    else pending.resolve(value);
  }

  // ---- Lua scripts ----------------------------------------------------------------------------

  defineCommand(name: string, definition: { numberOfKeys: number; lua: string; readOnly?: boolean }): void {
    const sha = createHash('sha1').update(definition.lua).digest('hex');
    this.scripts.set(name, { sha, lua: definition.lua, numberOfKeys: definition.numberOfKeys });
    // BullMQ checks `client[name]` to see whether a script is defined, as ioredis adds a method per script.
    Object.defineProperty(this, name, {
      value: (...args: unknown[]) => this.runCommand(name, args),
      configurable: true,
      writable: true,
    });
  }

  async runCommand(name: string, args: unknown[]): Promise<any> {
    const script = this.script(name);
    const argv = scriptArgs(script, args);
    try {
      const result = await this.call('EVALSHA', script.sha, ...argv);
      this.loadedShas.add(script.sha);
      return result;
    } catch (error) {
      if (!(error instanceof RedisReplyError) || !error.message.startsWith('NOSCRIPT')) throw error;
      const result = await this.call('EVAL', script.lua, ...argv);
      this.loadedShas.add(script.sha);
      return result;
    }
  }

  /** @internal */
  script(name: string): Script {
    const script = this.scripts.get(name);
    if (!script) throw new Error(`Redis script "${name}" is not defined`);
    return script;
  }

  /** @internal Loads scripts a pipeline or transaction will EVALSHA (NOSCRIPT inside MULTI cannot fall back). */
  async loadScripts(scripts: Iterable<Script>): Promise<void> {
    for (const script of scripts) {
      if (this.loadedShas.has(script.sha)) continue;
      await this.call('SCRIPT', 'LOAD', script.lua);
      this.loadedShas.add(script.sha);
    }
  }

  multi(): IRedisTransaction {
    return new RespTransaction(this, true);
  }

  pipeline(): IRedisTransaction {
    return new RespTransaction(this, false);
  }

  // ---- commands BullMQ uses -------------------------------------------------------------------

  async hgetall(key: string): Promise<Record<string, string>> {
    return pairsToObject(await this.call('HGETALL', key));
  }
  hget(key: string, field: string): Promise<string | null> {
    return this.call('HGET', key, field);
  }
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]> {
    return this.call('HMGET', key, ...fields);
  }
  hset(key: string, data: Record<string, string | number>): Promise<number> {
    return this.call('HSET', key, ...Object.entries(data).flat());
  }
  hdel(key: string, ...fields: string[]): Promise<number> {
    return this.call('HDEL', key, ...fields);
  }
  hexists(key: string, field: string): Promise<number> {
    return this.call('HEXISTS', key, field);
  }
  get(key: string): Promise<string | null> {
    return this.call('GET', key);
  }
  set(key: string, value: string | number, options?: { PX?: number; EX?: number }): Promise<string | null> {
    const expiry = options?.PX != null ? ['PX', options.PX] : options?.EX != null ? ['EX', options.EX] : [];
    return this.call('SET', key, value, ...expiry);
  }
  async del(...keys: string[]): Promise<number> {
    return keys.length === 0 ? 0 : this.call('DEL', ...keys);
  }
  zrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return this.call('ZRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : []));
  }
  zrevrange(key: string, start: number, end: number, options?: { WITHSCORES?: boolean }): Promise<string[]> {
    return this.call('ZREVRANGE', key, start, end, ...(options?.WITHSCORES ? ['WITHSCORES'] : []));
  }
  zcard(key: string): Promise<number> {
    return this.call('ZCARD', key);
  }
  zscore(key: string, member: string): Promise<string | null> {
    return this.call('ZSCORE', key, member);
  }
  lrange(key: string, start: number, end: number): Promise<string[]> {
    return this.call('LRANGE', key, start, end);
  }
  llen(key: string): Promise<number> {
    return this.call('LLEN', key);
  }
  ltrim(key: string, start: number, end: number): Promise<string> {
    return this.call('LTRIM', key, start, end);
  }
  lpos(key: string, value: string): Promise<number | null> {
    return this.call('LPOS', key, value);
  }
  smembers(key: string): Promise<string[]> {
    return this.call('SMEMBERS', key);
  }
  xadd(
    key: string,
    id: string,
    fields: Record<string, string | number>,
    options?: { MAXLEN?: number; approximate?: boolean },
  ): Promise<string> {
    const trim = options?.MAXLEN != null ? ['MAXLEN', ...(options.approximate === false ? [] : ['~']), options.MAXLEN] : [];
    return this.call('XADD', key, ...trim, id, ...Object.entries(fields).flat());
  }
  xread(streams: { key: string; id: string }[], options?: { BLOCK?: number; COUNT?: number }): Promise<any> {
    const args: RespArg[] = ['XREAD'];
    if (options?.BLOCK != null) args.push('BLOCK', options.BLOCK);
    if (options?.COUNT != null) args.push('COUNT', options.COUNT);
    args.push('STREAMS', ...streams.map((s) => s.key), ...streams.map((s) => s.id));
    return this.call(...args);
  }
  xtrim(key: string, strategy: 'MAXLEN', threshold: number, options?: { approximate?: boolean }): Promise<number> {
    return this.call('XTRIM', key, strategy, ...(options?.approximate === false ? [] : ['~']), threshold);
  }
  bzpopmin(key: string, timeout: number): Promise<[key: string, member: string, score: string] | null> {
    return this.call('BZPOPMIN', key, timeout);
  }
  info(section?: string): Promise<string> {
    return section ? this.call('INFO', section) : this.call('INFO');
  }
  clientSetName(name: string): Promise<any> {
    return this.call('CLIENT', 'SETNAME', name);
  }
  clientList(): Promise<string> {
    return this.call('CLIENT', 'LIST');
  }
  clientInfo(): Promise<string> {
    return this.call('CLIENT', 'INFO');
  }
  async scan(cursor: string | number, options: { MATCH?: string; COUNT?: number }): Promise<[string, string[]]> {
    const args: RespArg[] = ['SCAN', cursor];
    if (options?.MATCH != null) args.push('MATCH', options.MATCH);
    if (options?.COUNT != null) args.push('COUNT', options.COUNT);
    const [next, keys] = (await this.call(...args)) as [string, string[]];
    return [String(next), keys];
  }
  scanStream(options: { match: string; count?: number }): Readable {
    let cursor = '0';
    let started = false;
    const stream: Readable = new Readable({
      objectMode: true,
      read: () => {
        if (started && cursor === '0') return;
        started = true;
        this.scan(cursor, { MATCH: options.match, COUNT: options.count }).then(
          ([next, keys]) => {
            cursor = next;
            stream.push(keys);
            if (cursor === '0') stream.push(null);
          },
          (error: Error) => stream.destroy(error),
        );
      },
    });
    return stream;
  }
}

/**
 * A pipeline (commands in one write) or a MULTI/EXEC transaction. `exec()`
 * answers ioredis-style: `[error, value]` per command, or `null` when a WATCH
 * aborted the transaction.
 */
class RespTransaction implements IRedisTransaction {
  private readonly commands: RespArg[][] = [];
  private readonly transforms: Array<(value: any) => any> = [];
  private readonly scripts = new Set<Script>();

  constructor(
    private readonly client: RespRedisClient,
    private readonly atomic: boolean,
  ) {}

  private add(args: RespArg[], transform: (value: any) => any = (value) => value): this {
    this.commands.push(args);
    this.transforms.push(transform);
    return this;
  }

  hgetall(key: string): this {
    return this.add(['HGETALL', key], pairsToObject);
  }
  hset(key: string, data: Record<string, string | number>): this {
    return this.add(['HSET', key, ...Object.entries(data).flat()]);
  }
  hscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['HSCAN', key, cursor, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  smembers(key: string): this {
    return this.add(['SMEMBERS', key]);
  }
  sscan(key: string, cursor: string | number, options?: { COUNT?: number }): this {
    return this.add(['SSCAN', key, cursor, ...(options?.COUNT != null ? ['COUNT', options.COUNT] : [])]);
  }
  zrange(key: string, start: number, end: number): this {
    return this.add(['ZRANGE', key, start, end]);
  }
  lrange(key: string, start: number, end: number): this {
    return this.add(['LRANGE', key, start, end]);
  }
  llen(key: string): this {
    return this.add(['LLEN', key]);
  }
  del(...keys: string[]): this {
    return keys.length === 0 ? this : this.add(['DEL', ...keys]);
  }
  runCommand(name: string, args: any[]): this {
    const script = this.client.script(name);
    this.scripts.add(script);
    return this.add(['EVALSHA', script.sha, ...scriptArgs(script, args)]);
  }

  async exec(): Promise<[Error | null, any][] | null> {
    if (this.commands.length === 0) return [];
    await this.client.loadScripts(this.scripts);
    if (!this.atomic) {
      const replies = await Promise.all(this.client.send(this.commands, true));
      return replies.map((reply, i) => this.entry(reply, i));
    }
    const replies = await Promise.all(this.client.send([['MULTI'], ...this.commands, ['EXEC']], true));
    const result = replies[replies.length - 1];
    if (result instanceof RedisReplyError) {
      // EXECABORT: name the command that could not be queued.
      const queueError = replies.slice(1, -1).find((reply) => reply instanceof RedisReplyError);
      throw queueError ?? result;
    }
    if (result === null) return null;
    return (result as RespValue[]).map((reply, i) => this.entry(reply, i));
  }

  private entry(reply: RespValue, index: number): [Error | null, any] {
    return reply instanceof RedisReplyError ? [reply, null] : [null, this.transforms[index](reply)];
  }
}

function makePendings(count: number, raw: boolean): { pendings: Pending[]; promises: Array<Promise<RespValue>> } {
  const pendings: Pending[] = [];
  const promises: Array<Promise<RespValue>> = [];
  for (let i = 0; i < count; i++) {
    promises.push(new Promise<RespValue>((resolve, reject) => pendings.push({ resolve, reject, raw })));
  }
  return { pendings, promises };
}

/** `EVALSHA`/`EVAL` arguments after the script: key count, keys, then argv (ioredis conventions for values). */
function scriptArgs(script: Script, args: unknown[]): RespArg[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  const values = list.map((value): RespArg => {
    if (Buffer.isBuffer(value)) return value;
    if (value === undefined || value === null) return '';
    return String(value);
  });
  return [script.numberOfKeys, ...values];
}

function pairsToObject(reply: unknown): Record<string, string> {
  const object: Record<string, string> = {};
  if (!Array.isArray(reply)) return object;
  for (let i = 0; i + 1 < reply.length; i += 2) object[String(reply[i])] = reply[i + 1] as string;
  return object;
}

/** `redis[s]://[[user]:password@]host[:port][/db]` */
export function parseRedisUrl(url: string): Endpoint {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`The Redis URL's database must be a number, got "${parsed.pathname.slice(1)}"`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
  };
}

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
