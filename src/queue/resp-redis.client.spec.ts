import { ConnectionClosedError } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { describeIfService, redisAvailable, TEST_REDIS_URL } from '../../test/support/redis';
import { encodeCommand, RedisReplyError, RespParser, type RespValue } from './resp.codec';
import { parseRedisUrl, redactRedisUrl, RespRedisClient } from './resp-redis.client';

describe('RESP codec', () => {
  it('encodes a command as an array of bulk strings, Buffers byte for byte', () => {
    expect(encodeCommand(['SET', 'k', 42, Buffer.from([0xff, 0x00])]).toString('latin1')).toBe(
      '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n$2\r\n\xff\x00\r\n',
    );
    expect(encodeCommand(['SET', 'k', 'åäö']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nåäö\r\n');
  });

  it('parses every reply type, across chunk boundaries, in order', () => {
    const replies: RespValue[] = [];
    const parser = new RespParser((value) => replies.push(value));
    const wire = Buffer.from(
      '+OK\r\n-ERR wrong\r\n:42\r\n$6\r\nhällo\r\n$-1\r\n*-1\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n-NOSCRIPT no\r\n$0\r\n\r\n',
    );
    for (let i = 0; i < wire.length; i += 3) parser.feed(wire.subarray(i, i + 3));
    expect(replies).toEqual([
      'OK',
      new RedisReplyError('ERR wrong'),
      42,
      'hällo',
      null,
      null,
      [1, ['a', new RedisReplyError('NOSCRIPT no')], ''],
    ]);
    expect(replies[1]).toBeInstanceOf(RedisReplyError);
  });

  it('refuses a reply type it does not know', () => {
    const parser = new RespParser(() => undefined);
    expect(() => parser.feed(Buffer.from('?what\r\n'))).toThrow('Redis protocol error');
  });
});

describe('Redis URLs', () => {
  it('reads host, port, credentials, database and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({
      host: '127.0.0.1',
      port: 6379,
      tls: false,
      username: undefined,
      password: undefined,
      db: 0,
    });
    expect(parseRedisUrl('rediss://me:p%40ss@cache.example:6380/2')).toEqual({
      host: 'cache.example',
      port: 6380,
      tls: true,
      username: 'me',
      password: 'p@ss',
      db: 2,
    });
    expect(parseRedisUrl('redis://:secret@[::1]')).toMatchObject({ host: '::1', port: 6379, password: 'secret', username: undefined });
    expect(() => parseRedisUrl('redis://h/x')).toThrow("The Redis URL's database must be a number");
    expect(redactRedisUrl('redis://me:secret@h:1/0')).toBe('redis://me:***@h:1/0');
  });
});

describeIfService(
  redisAvailable(),
  `Redis is not reachable at ${redactRedisUrl(TEST_REDIS_URL)}`,
  `${RespRedisClient.name} on a real Redis`,
  () => {
    let client: RespRedisClient;
    const key = (name: string) => `metacrm-spec:${randomBytes(4).toString('hex')}:${name}`;
    beforeEach(() => {
      client = new RespRedisClient(TEST_REDIS_URL);
    });
    afterEach(() => client.quit());

    it('queues commands until connected, then answers them in order', async () => {
      const lazy = new RespRedisClient(TEST_REDIS_URL, { lazyConnect: true });
      expect(lazy.status).toBe('wait');
      const k = key('n');
      const answers = await Promise.all([lazy.call('SET', k, 1), lazy.call('INCR', k), lazy.get(k), lazy.del(k)]);
      expect(answers).toEqual(['OK', 2, '2', 1]);
      expect(lazy.status).toBe('ready');
      await lazy.quit();
      expect(lazy.status).toBe('end');
      await expect(lazy.get(k)).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('answers hashes as objects, sorted sets and blocking pops as ioredis does', async () => {
      const [h, z] = [key('h'), key('z')];
      expect(await client.hset(h, { a: '1', b: 2 })).toBe(2);
      expect(await client.hgetall(h)).toEqual({ a: '1', b: '2' });
      expect(await client.hgetall(key('none'))).toEqual({});
      expect(await client.hmget(h, 'a', 'x')).toEqual(['1', null]);
      await client.call('ZADD', z, 1, 'one', 2, 'two');
      expect(await client.zrange(z, 0, -1, { WITHSCORES: true })).toEqual(['one', '1', 'two', '2']);
      expect(await client.bzpopmin(z, 1)).toEqual([z, 'one', '1']);
      expect(await client.bzpopmin(key('empty'), 0.05)).toBeNull();
      const [cursor, keys] = await client.scan(0, { MATCH: h, COUNT: 1000 });
      expect(typeof cursor).toBe('string');
      expect(Array.isArray(keys)).toBe(true);
      await client.del(h, z);
    });

    it('runs transactions and pipelines, with each command’s error or answer', async () => {
      const k = key('t');
      const multi = client.multi();
      multi.hset(k, { f: 'v' }).hgetall(k).llen(k).del(k);
      expect(await multi.exec()).toEqual([
        [null, 1],
        [null, { f: 'v' }],
        [expect.any(RedisReplyError), null], // LLEN on a hash: WRONGTYPE
        [null, 1],
      ]);
      const pipeline = client.pipeline();
      expect(await pipeline.lrange(k, 0, -1).smembers(k).exec()).toEqual([
        [null, []],
        [null, []],
      ]);
    });

    it('runs Lua scripts by SHA, loading them when Redis does not know them yet', async () => {
      const k = key('lua');
      // A script body Redis has never seen (NOSCRIPT on the first EVALSHA).
      client.defineCommand('setAndGet', {
        numberOfKeys: 1,
        lua: `-- ${randomBytes(8).toString('hex')}\nredis.call('SET', KEYS[1], ARGV[1]) return {redis.call('GET', KEYS[1]), ARGV[2]}`,
      });
      expect(await client.runCommand('setAndGet', [k, Buffer.from('bytes'), undefined])).toEqual(['bytes', '']);
      expect(await client.runCommand('setAndGet', [[k, 'again', 7]])).toEqual(['again', '7']);
      const copy = client.duplicate();
      try {
        const multi = copy.multi();
        multi.runCommand('setAndGet', [k, 'in a transaction', 'x']);
        expect(await multi.exec()).toEqual([[null, ['in a transaction', 'x']]]);
      } finally {
        await copy.quit();
      }
      await client.del(k);
    });

    it('authenticates as the URL says and selects its database, and says why a wrong password is refused', async () => {
    const user = `metacrm-spec-${randomBytes(4).toString('hex')}`;
    await client.call('ACL', 'SETUSER', user, 'on', '>s3cret', '~*', '&*', '+@all');
    try {
      const url = new URL(TEST_REDIS_URL);
      Object.assign(url, { username: user, password: 's3cret', pathname: '/1' });
      const authed = new RespRedisClient(url.toString());
      try {
        expect(await authed.call('ACL', 'WHOAMI')).toBe(user);
        expect(await authed.clientInfo()).toContain(' db=1 ');
      } finally {
        await authed.quit();
      }
      url.password = 'wrong';
      const refused = new RespRedisClient(url.toString(), { lazyConnect: true });
      const error = new Promise<Error>((resolve) => refused.once('error', resolve));
      await expect(refused.connect()).rejects.toThrow(/WRONGPASS/);
      expect((await error).message).toMatch(/WRONGPASS/);
      refused.disconnect();
    } finally {
      await client.call('ACL', 'DELUSER', user);
    }
  });

  it('rejects what is in flight when disconnected, and ends', async () => {
      const blocking = client.duplicate({ connectionName: 'metacrm-spec-blocking' });
      await blocking.connect();
      expect(await client.clientList()).toContain('name=metacrm-spec-blocking');
      const pop = blocking.bzpopmin(key('never'), 5);
      const ended = new Promise((resolve) => blocking.once('end', resolve));
      blocking.disconnect();
      await expect(pop).rejects.toBeInstanceOf(ConnectionClosedError);
      await ended;
      expect(blocking.status).toBe('end');
    });

    it('reconnects after the server drops the connection', async () => {
      const name = `metacrm-spec-${randomBytes(4).toString('hex')}`;
      const victim = new RespRedisClient(TEST_REDIS_URL, { connectionName: name });
      try {
        expect(await victim.call('PING')).toBe('PONG');
        const closed = new Promise((resolve) => victim.once('close', resolve));
        await client.call('CLIENT', 'KILL', 'SKIPME', 'yes', 'ID', await idOf(name));
        await closed;
        expect(await victim.call('PING')).toBe('PONG'); // waits in the offline queue for the reconnect
        expect(victim.status).toBe('ready');
      } finally {
        await victim.quit();
      }
    });

    async function idOf(name: string): Promise<string> {
      const line = (await client.clientList()).split('\n').find((l) => l.includes(` name=${name} `));
      return /(?:^|\s)id=(\d+)/.exec(line ?? '')![1];
    }
  },
);
