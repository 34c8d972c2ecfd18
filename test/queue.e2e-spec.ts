import type { INestApplicationContext } from '@nestjs/common';
import { createApp, createWorkerContext } from '../src/app.factory';
import { ConfigException, loadConfig } from '../src/config/app.config';
import { BullmqQueueDriver } from '../src/queue/bullmq-queue.driver';
import { InProcessQueueDriver } from '../src/queue/in-process-queue.driver';
import { JOB_QUEUE } from '../src/queue/job-queue';
import { redactRedisUrl } from '../src/queue/redis-connection';
import { account, createRecord } from './support/factories';
import { describeIfService, redisAvailable, removeQueue, TEST_REDIS_URL } from './support/redis';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const NO_REDIS = `Redis is not reachable at ${redactRedisUrl(TEST_REDIS_URL)}`;

describe('process roles (PROCESS_ROLE)', () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig({ DATA_DIR: 'memory://', ...env });
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigException);
      return (error as ConfigException).problems;
    }
  };

  it('defaults to all, and accepts api and worker with REDIS_URL', () => {
    expect(loadConfig({ DATA_DIR: 'memory://' }).processRole).toBe('all');
    expect(loadConfig({ DATA_DIR: 'memory://', PROCESS_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6379' }).processRole).toBe('api');
    expect(loadConfig({ DATA_DIR: 'memory://', PROCESS_ROLE: 'worker', REDIS_URL: 'redis://127.0.0.1:6379' }).processRole).toBe('worker');
  });

  it('refuses api and worker without REDIS_URL: the in-process queue cannot hand jobs to another process', () => {
    expect(problemsOf({ PROCESS_ROLE: 'api' })).toEqual([
      'PROCESS_ROLE=api needs REDIS_URL: without Redis the job queue runs inside each process, so an API process that runs no workers would queue jobs nobody runs',
    ]);
    expect(problemsOf({ PROCESS_ROLE: 'worker' })).toEqual([
      'PROCESS_ROLE=worker needs REDIS_URL: without Redis the job queue runs inside each process, so a separate worker process would get no jobs',
    ]);
  });

  it('refuses an unknown role and a bad QUEUE_CONCURRENCY', () => {
    expect(problemsOf({ PROCESS_ROLE: 'cron', QUEUE_CONCURRENCY: '0' })).toEqual([
      'PROCESS_ROLE must be one of all, api, worker, got "cron"',
      'QUEUE_CONCURRENCY must be an integer from 1 to 256, got "0"',
    ]);
  });

  it('refuses to build the HTTP application for role worker', async () => {
    const config = loadConfig({ DATA_DIR: 'memory://', PROCESS_ROLE: 'worker', REDIS_URL: 'redis://127.0.0.1:6379' });
    await expect(createApp(config, { logger: false })).rejects.toThrow(
      'PROCESS_ROLE=worker runs no HTTP server: start it with `npm run start:worker` (or use PROCESS_ROLE=all or api)',
    );
  });
});

/** The engine's own queue work (outbox → formula refresh) on each driver. */
const drivers = [
  { name: 'in-process', available: true, redisUrl: undefined, driver: InProcessQueueDriver },
  { name: 'BullMQ', available: redisAvailable(), redisUrl: TEST_REDIS_URL, driver: BullmqQueueDriver },
];

for (const { name, available, redisUrl, driver } of drivers) {
  describeIfService(available, NO_REDIS, `the engine on the ${name} queue`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ redisUrl });
    });
    afterAll(async () => {
      const queue = t?.app.get(JOB_QUEUE);
      await t?.close();
      if (queue instanceof BullmqQueueDriver) await removeQueue(queue.queueName);
    });
    const get = async (module: string, id: string) => (await t.http.get(`/api/v1/${module}/${id}`).set('Authorization', t.auth)).body.data;

    it(`runs on the ${name} driver`, () => {
      expect(t.app.get(JOB_QUEUE)).toBeInstanceOf(driver);
    });

    it('hands a committed save to its outbox handler through the queue', async () => {
      const acc = await account(t, { name: `${name} AB` });
      await createRecord(t, 'invoices', { subject: 'A', account: acc.id, lines: [{ quantity: 1, price: 80, vat_rate: 25 }] });
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 100,
      );
    });
  });
}

const hasPostgres = Boolean(process.env.DATABASE_URL);
describeIfService(
  hasPostgres && redisAvailable(),
  hasPostgres ? NO_REDIS : 'DATABASE_URL is not set (processes can share PostgreSQL, not PGlite)',
  'an API process and a worker process on one database',
  () => {
    let api: TestApp;
    let worker: INestApplicationContext | undefined;
    beforeAll(async () => {
      api = await startTestApp({ redisUrl: TEST_REDIS_URL, processRole: 'api' });
    });
    afterAll(async () => {
      await worker?.close();
      const queue = api?.app.get(JOB_QUEUE);
      await api?.close();
      if (queue instanceof BullmqQueueDriver) await removeQueue(queue.queueName);
    });
    const get = async (module: string, id: string) =>
      (await api.http.get(`/api/v1/${module}/${id}`).set('Authorization', api.auth)).body.data;

    it('queues jobs in the API process and runs them in the worker', async () => {
      const acc = await account(api, { name: 'Split AB' });
      await createRecord(api, 'invoices', { subject: 'A', account: acc.id, lines: [{ quantity: 2, price: 40, vat_rate: 25 }] });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await get('accounts', acc.id)).total_invoiced).not.toBe(100); // no worker runs yet

      worker = await createWorkerContext({ ...api.config, processRole: 'worker' }, { logger: false });
      await eventually(
        () => get('accounts', acc.id),
        (a) => a.total_invoiced === 100,
        10000,
      );
    });
  },
);
