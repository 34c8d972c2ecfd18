import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { describeIfService, redisAvailable, TEST_REDIS_URL } from '../../test/support/redis';
import { ConfigException } from '../config/app.config';
import {
  assertNoEviction,
  BullmqQueueDriver,
  bullmqQueueName,
  evictionPolicyFromInfo,
  type BullmqQueueOptions,
} from './bullmq-queue.driver';
import { JOB_NAMES, type JobHandler, type JobName, type JobQueue } from './job-queue';
import type { Redis } from 'ioredis';
import { createRedis, redactRedisUrl } from './redis-connection';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function register(queue: JobQueue, handlers: { [N in JobName]?: JobHandler<N> }): void {
  for (const name of JOB_NAMES) queue.handle(name, (handlers[name] ?? (async () => undefined)) as JobHandler<JobName>);
}

describe(BullmqQueueDriver.name, () => {
  describe('checks of the Redis it is given', () => {
    it('reads the eviction policy from INFO', () => {
      const info = '# Memory\r\nused_memory:1043968\r\nmaxmemory:0\r\nmaxmemory_policy:allkeys-lru\r\nallocator_frag_ratio:1.2\r\n';
      expect(evictionPolicyFromInfo(info)).toBe('allkeys-lru');
      expect(evictionPolicyFromInfo('# Memory\r\nused_memory:1\r\n')).toBeUndefined();
    });

    it('accepts only maxmemory-policy noeviction, saying what to change', () => {
      expect(() => assertNoEviction('noeviction', 'redis://h:6379')).not.toThrow();
      expect(() => assertNoEviction('volatile-lru', 'redis://user:secret@h:6379')).toThrow(ConfigException);
      expect(() => assertNoEviction('volatile-lru', 'redis://user:secret@h:6379')).toThrow(
        'REDIS_URL: Redis at redis://user:***@h:6379 has maxmemory-policy "volatile-lru"; the job queue needs "noeviction"',
      );
      expect(() => assertNoEviction(undefined, 'redis://h:6379')).toThrow('maxmemory-policy "unknown"');
    });

    it('refuses to start when Redis cannot be reached', async () => {
      const started = Date.now();
      await expect(
        BullmqQueueDriver.connect({
          redisUrl: 'redis://127.0.0.1:1',
          queueName: 'unreachable',
          runWorkers: true,
          concurrency: 1,
          connectTimeoutMs: 300,
        }),
      ).rejects.toThrow(/REDIS_URL: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 within 300 ms .*Start Redis, or unset REDIS_URL/);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe(bullmqQueueName.name, () => {
    it('names one queue per PostgreSQL database and schema, and a queue of its own for each in-memory database', () => {
      const pg = { databaseUrl: 'postgres://u:p@db:5432/crm', databaseSchema: 'public', dataDir: '/x' };
      expect(bullmqQueueName(pg)).toMatch(/^metacrm-public-[0-9a-f]{8}$/);
      expect(bullmqQueueName({ ...pg, databaseUrl: 'postgres://other:pw@db:5432/crm' })).toBe(bullmqQueueName(pg));
      expect(bullmqQueueName({ ...pg, databaseSchema: 't_1' })).toMatch(/^metacrm-t_1-/);
      expect(bullmqQueueName({ ...pg, databaseUrl: 'postgres://u:p@db:5432/other' })).not.toBe(bullmqQueueName(pg));
      const memory = { databaseUrl: undefined, databaseSchema: 'public', dataDir: 'memory://' };
      expect(bullmqQueueName(memory)).not.toBe(bullmqQueueName(memory));
    });
  });

  describeIfService(redisAvailable(), `Redis is not reachable at ${redactRedisUrl(TEST_REDIS_URL)}`, 'on a real Redis', () => {
    const open: JobQueue[] = [];
    let client: Redis;
    const options = (queueName: string, overrides: Partial<BullmqQueueOptions> = {}): BullmqQueueOptions => ({
      redisUrl: TEST_REDIS_URL,
      queueName,
      runWorkers: true,
      concurrency: 8,
      ...overrides,
    });
    const connect = async (queueName: string, overrides: Partial<BullmqQueueOptions> = {}) => {
      const driver = await BullmqQueueDriver.connect(options(queueName, overrides));
      open.push(driver);
      return driver;
    };
    /** A plain BullMQ view of the queue, to look at what the driver left there. */
    const inspect = (queueName: string) => new Queue(queueName, { connection: client });

    beforeAll(() => {
      Logger.overrideLogger(false);
      client = createRedis(TEST_REDIS_URL);
    });
    afterEach(async () => {
      for (const driver of open.splice(0)) await driver.close();
    });
    afterAll(async () => {
      await client.quit();
      Logger.overrideLogger(['error', 'warn', 'log']);
    });

    it('refuses a Redis whose maxmemory-policy may evict jobs', async () => {
      const [, original] = (await client.call('CONFIG', 'GET', 'maxmemory-policy')) as [string, string];
      let refusal: unknown;
      try {
        await client.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
        refusal = await BullmqQueueDriver.connect(options(`metacrm-spec-${randomBytes(4).toString('hex')}`)).then(
          (driver) => driver.close(),
          (error: unknown) => error,
        );
      } finally {
        await client.call('CONFIG', 'SET', 'maxmemory-policy', original);
      }
      expect(refusal).toBeInstanceOf(ConfigException);
      expect((refusal as Error).message).toContain('has maxmemory-policy "allkeys-lru"; the job queue needs "noeviction"');
    });

    it('keeps a job that failed its last attempt as failed, with its error, and can run it again', async () => {
      const name = `metacrm-spec-${randomBytes(4).toString('hex')}`;
      const driver = await connect(name, { disposable: true });
      let healthy = false;
      let runs = 0;
      register(driver, {
        'mail.send': async () => {
          runs++;
          if (!healthy) throw new Error('SMTP server said no');
        },
      });
      await driver.start();
      await driver.enqueue('mail.send', { messageId: 'm1' }, 'mail:m1');
      await driver.idle(); // 5 attempts: 200 + 400 + 800 + 1600 ms of backoff
      expect(runs).toBe(5);
      const queue = inspect(name);
      try {
        const [failed] = await queue.getJobs(['failed']);
        expect(failed).toMatchObject({
          name: 'mail.send',
          data: { messageId: 'm1' },
          attemptsMade: 5,
          failedReason: 'SMTP server said no',
        });
        healthy = true;
        await failed.retry('failed');
        await driver.idle();
        expect(runs).toBe(6);
        expect(await queue.getJobCounts('failed', 'completed')).toEqual({ failed: 0, completed: 1 });
      } finally {
        await queue.close();
      }
    }, 15000);

    it('shares one queue between processes: each job runs once, and each schedule tick once', async () => {
      const name = `metacrm-spec-${randomBytes(4).toString('hex')}`;
      const runs = new Map<string, string[]>();
      const ticks: string[] = [];
      const drivers = [await connect(name), await connect(name, { disposable: true })];
      drivers.forEach((driver, i) => {
        register(driver, {
          'outbox.event': async ({ outboxId }) => {
            await sleep(5);
            runs.set(outboxId, [...(runs.get(outboxId) ?? []), `driver ${i}`]);
          },
          'workflow.tick': async () => void ticks.push(`driver ${i}`),
        });
      });
      await Promise.all(drivers.map((driver) => driver.start()));
      for (let i = 0; i < 60; i++) await drivers[i % 2].enqueue('outbox.event', { outboxId: String(i) }, `outbox:${i}`);
      await drivers[0].idle();
      expect(runs.size).toBe(60);
      expect([...runs.values()].every((by) => by.length === 1)).toBe(true);

      for (const driver of drivers) await driver.schedule('workflow:shared', '* * * * * *', 'workflow.tick', { workflow: 'shared' });
      await sleep(2500);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(3);
      await drivers[0].unschedule('workflow:shared');
    }, 15000);

    it('in a process without workers (role api) only queues: a worker process runs the jobs', async () => {
      const name = `metacrm-spec-${randomBytes(4).toString('hex')}`;
      const api = await connect(name, { runWorkers: false });
      const apiRuns: string[] = [];
      register(api, { 'outbox.event': async ({ outboxId }) => void apiRuns.push(outboxId) });
      await api.start();
      await api.enqueue('outbox.event', { outboxId: '1' }, 'outbox:1');
      await sleep(300);
      expect(apiRuns).toEqual([]);
      const queue = inspect(name);
      try {
        expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      } finally {
        await queue.close();
      }

      const worker = await connect(name, { disposable: true });
      const workerRuns: string[] = [];
      register(worker, { 'outbox.event': async ({ outboxId }) => void workerRuns.push(outboxId) });
      await worker.start();
      await api.idle();
      expect(workerRuns).toEqual(['1']);
      expect(apiRuns).toEqual([]);
    });

    it('lets a running job finish when it closes', async () => {
      const name = `metacrm-spec-${randomBytes(4).toString('hex')}`;
      const driver = await BullmqQueueDriver.connect(options(name, { disposable: true }));
      let finished = false;
      register(driver, {
        'outbox.event': async () => {
          await sleep(300);
          finished = true;
        },
      });
      await driver.start();
      await driver.enqueue('outbox.event', { outboxId: '1' });
      await sleep(50);
      await driver.close();
      expect(finished).toBe(true);
      await driver.enqueue('outbox.event', { outboxId: '2' }); // closed: ignored, no error
      await driver.close();
    });
  });
});
