/**
 * Counters for `bench:workflows`, to read where a save's time and work go without touching src/:
 *
 * - the engine's Redis traffic: ioredis commands this process sends (Lua scripts by their BullMQ
 *   name) and round trips (a pipeline is one), by wrapping `Redis.prototype.sendCommand`;
 * - the engine's SQL statements, by wrapping `pg`'s `Client.prototype.query` (PostgreSQL) or the
 *   PGlite instance's `query`/`exec` (embedded), grouped by statement kind and table;
 * - the CPU time of the PostgreSQL backends serving the engine's connections (found by their client
 *   port) plus PostgreSQL's background processes, and of Redis, from /proc (Linux; approximate: a
 *   process that exits takes its CPU time with it, and Redis and PostgreSQL's background processes
 *   also work for anyone else using them).
 *
 * Statements that start with {@link UNTRACED} (the bench's own polling) and Redis connections named
 * {@link UNTRACED_REDIS} (the bench's own) are not counted.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Client } from 'pg';

export const UNTRACED = '/* bench */';
export const UNTRACED_REDIS = 'metacrm-bench-stats';

export interface TraceSnapshot {
  redis: Map<string, number>;
  redisTrips: number;
  sql: Map<string, number>;
  /** CPU seconds of the server processes, by pid. */
  serverCpu: Map<number, ServerProcess>;
}

export interface TraceDiff {
  redisPerSave: number;
  redisTripsPerSave: number;
  sqlPerSave: number;
  /** "name count/save, …", most frequent first. */
  topRedis: string;
  topSql: string;
  /** CPU ms per save of PostgreSQL and Redis (from /proc), when known. */
  postgresCpuPerSave?: number;
  /** Of that, PostgreSQL's background processes (checkpointer, WAL writer, …), shared with anyone else. */
  postgresBackgroundCpuPerSave?: number;
  redisCpuPerSave?: number;
}

interface CommandLike {
  name: string;
  args: unknown[];
}
type SendCommand = (this: Redis, command: CommandLike, stream?: object) => unknown;
type ClientQuery = (this: Client, ...args: unknown[]) => unknown;
interface PgliteLike {
  query: (sql: string, ...rest: any[]) => Promise<unknown>;
  exec: (sql: string, ...rest: any[]) => Promise<unknown>;
}

interface ServerProcess {
  name: 'postgres' | 'redis-server';
  seconds: number;
  /** A PostgreSQL backend's client port (none for the background processes). */
  clientPort?: number;
}

let installed: Tracer | undefined;

export class Tracer {
  private readonly redis = new Map<string, number>();
  private readonly sql = new Map<string, number>();
  private redisTrips = 0;
  private readonly pipelines = new WeakSet<object>();
  /** Local ports of the engine's PostgreSQL connections. */
  private readonly pgPorts = new Set<number>();

  /** Wraps ioredis and pg once per process. */
  static install(): Tracer {
    if (installed) return installed;
    const tracer = new Tracer();
    const sendCommand = Redis.prototype.sendCommand as unknown as SendCommand;
    (Redis.prototype as unknown as { sendCommand: SendCommand }).sendCommand = function (this: Redis, command, stream) {
      if (this.options.connectionName !== UNTRACED_REDIS) tracer.redisCommand(this, command, stream);
      return sendCommand.call(this, command, stream);
    };
    const query = Client.prototype.query as unknown as ClientQuery;
    (Client.prototype as unknown as { query: ClientQuery }).query = function (this: Client, ...args: unknown[]) {
      const first = args[0];
      const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
      if (text !== undefined) tracer.statement(text);
      const port = (this as unknown as { connection?: { stream?: { localPort?: number } } }).connection?.stream?.localPort;
      if (port !== undefined && text !== undefined && !text.startsWith(UNTRACED)) tracer.pgPorts.add(port);
      return query.apply(this, args);
    };
    installed = tracer;
    return tracer;
  }

  /** Forgets the engine's PostgreSQL connections (call when a new engine starts: ports get reused). */
  resetConnections(): void {
    this.pgPorts.clear();
  }

  /** Counts the statements an embedded PGlite instance runs (typeorm-pglite calls `query` and `exec`). */
  attachPglite(instance: PgliteLike): void {
    const query = instance.query.bind(instance);
    const exec = instance.exec.bind(instance);
    instance.query = (sql, ...rest) => {
      this.statement(sql);
      return query(sql, ...rest);
    };
    instance.exec = (sql, ...rest) => {
      this.statement(sql);
      return exec(sql, ...rest);
    };
  }

  snapshot(): TraceSnapshot {
    return { redis: new Map(this.redis), redisTrips: this.redisTrips, sql: new Map(this.sql), serverCpu: serverCpuSeconds() };
  }

  diff(before: TraceSnapshot, after: TraceSnapshot, saves: number): TraceDiff {
    const delta = (a: Map<string, number>, b: Map<string, number>) =>
      [...a].map(([name, count]) => ({ name, count: count - (b.get(name) ?? 0) })).filter((x) => x.count > 0);
    const redis = delta(after.redis, before.redis);
    const sql = delta(after.sql, before.sql);
    const sum = (rows: Array<{ count: number }>) => rows.reduce((s, r) => s + r.count, 0);
    const top = (rows: Array<{ name: string; count: number }>, n: number) =>
      rows
        .sort((x, y) => y.count - x.count)
        .slice(0, n)
        .map((r) => `${r.name} ${(r.count / saves).toFixed(1)}`)
        .join(', ');
    // Per process alive at the end (one started meanwhile, e.g. a new pool connection, counts in full);
    // PostgreSQL: the engine's backends and the background processes.
    const cpu = (name: ServerProcess['name'], backgroundOnly = false) => {
      let seconds = 0;
      let seen = false;
      for (const [pid, a] of after.serverCpu) {
        const b = before.serverCpu.get(pid);
        if (a.name !== name || (b && b.clientPort !== a.clientPort)) continue;
        if (a.clientPort !== undefined && (backgroundOnly || !this.pgPorts.has(a.clientPort))) continue;
        seen = true;
        seconds += Math.max(0, a.seconds - (b?.seconds ?? 0));
      }
      // On PGlite the engine has no PostgreSQL connections: the database's CPU is the engine's own.
      return seen && (name !== 'postgres' || this.pgPorts.size > 0) ? (seconds * 1000) / saves : undefined;
    };
    return {
      redisPerSave: sum(redis) / saves,
      redisTripsPerSave: (after.redisTrips - before.redisTrips) / saves,
      sqlPerSave: sum(sql) / saves,
      topRedis: top(redis, 8),
      topSql: top(sql, 12),
      postgresCpuPerSave: cpu('postgres'),
      postgresBackgroundCpuPerSave: cpu('postgres', true),
      redisCpuPerSave: cpu('redis-server'),
    };
  }

  private redisCommand(client: Redis, command: CommandLike, stream?: object): void {
    let name = command.name.toLowerCase();
    if (name === 'evalsha') {
      const sha = command.args[0];
      const scripts = (client as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
      const script = Object.entries(scripts).find(([, s]) => s.sha === sha)?.[0];
      name = `lua:${script?.replace(/-\d+$/, '') ?? 'unknown'}`;
    }
    this.redis.set(name, (this.redis.get(name) ?? 0) + 1);
    const pipeline = stream as { isPipeline?: boolean } | undefined;
    if (!pipeline?.isPipeline) this.redisTrips++;
    else if (!this.pipelines.has(pipeline)) {
      this.pipelines.add(pipeline);
      this.redisTrips++;
    }
  }

  private statement(sql: string): void {
    if (sql.startsWith(UNTRACED)) return;
    const key = statementKey(sql);
    this.sql.set(key, (this.sql.get(key) ?? 0) + 1);
  }
}

/** "UPDATE workflow_runs", "SELECT records", "BEGIN", … */
export function statementKey(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = (/^(\w+)/.exec(text)?.[1] ?? '?').toUpperCase();
  const table =
    verb === 'INSERT'
      ? /^INSERT INTO "?(\w+)/i.exec(text)?.[1]
      : verb === 'UPDATE'
        ? /^UPDATE "?(\w+)/i.exec(text)?.[1]
        : verb === 'DELETE'
          ? /^DELETE FROM "?(\w+)/i.exec(text)?.[1]
          : verb === 'SELECT' || verb === 'WITH'
            ? / FROM "?(\w+)/i.exec(text)?.[1]
            : undefined;
  return table ? `${verb} ${table}` : verb;
}

/** CPU seconds (user + system) of every `postgres` and `redis-server` process, by pid. */
function serverCpuSeconds(): Map<number, ServerProcess> {
  const processes = new Map<number, ServerProcess>();
  if (!existsSync('/proc')) return processes;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'postgres' && name !== 'redis-server') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based), in clock ticks (100 per second).
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      // A backend's title: "postgres: <user> <database> 127.0.0.1(<client port>) <state>".
      const port = name === 'postgres' ? /\((\d+)\)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1] : undefined;
      processes.set(Number(pid), { name, seconds, clientPort: port === undefined ? undefined : Number(port) });
    } catch {
      // the process exited meanwhile
    }
  }
  return processes;
}
