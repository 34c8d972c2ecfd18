import { randomBytes } from 'node:crypto';
import { describeIfService, redisAvailable, TEST_REDIS_URL } from '../../test/support/redis';
import { BullmqQueueDriver } from './bullmq-queue.driver';
import { CronPatternException } from './cron-schedule';
import { InProcessQueueDriver } from './in-process-queue.driver';
import { JOB_NAMES, type JobHandler, type JobName, type JobQueue } from './job-queue';
import { redactRedisUrl } from './redis-connection';

/** The same behaviour, whichever driver: the port's contract. */
const drivers: Array<{ name: string; available: boolean; create(): Promise<JobQueue> }> = [
  { name: 'in-process', available: true, create: async () => new InProcessQueueDriver() },
  {
    name: 'BullMQ',
    available: redisAvailable(),
    create: () =>
      BullmqQueueDriver.connect({
        redisUrl: TEST_REDIS_URL,
        queueName: `metacrm-spec-${randomBytes(6).toString('hex')}`,
        runWorkers: true,
        concurrency: 8,
        disposable: true,
      }),
  },
];

type Handlers = { [N in JobName]?: JobHandler<N> };

/** Registers the given handlers and a no-op for every other job name (start() insists on one handler each). */
function register(queue: JobQueue, handlers: Handlers): void {
  for (const name of JOB_NAMES) {
    const handler = (handlers[name] ?? (async () => undefined)) as JobHandler<JobName>;
    queue.handle(name, handler);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const driver of drivers) {
  describeIfService(
    driver.available,
    `Redis is not reachable at ${redactRedisUrl(TEST_REDIS_URL)}`,
    `JobQueue (${driver.name} driver)`,
    () => {
      let queue: JobQueue;
      beforeEach(async () => {
        queue = await driver.create();
      });
      afterEach(() => queue.close());

      it('runs each queued job once, with its payload', async () => {
        const seen: string[] = [];
        register(queue, { 'outbox.event': async ({ outboxId }) => void seen.push(outboxId) });
        await queue.start();
        for (const id of ['1', '2', '3']) await queue.enqueue('outbox.event', { outboxId: id });
        await queue.idle();
        expect(seen.sort()).toEqual(['1', '2', '3']);
      });

      it('queues a job with a key once while one with that key is waiting or running, and again once it finished', async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const seen: string[] = [];
        register(queue, {
          'outbox.event': async ({ outboxId }) => {
            seen.push(outboxId);
            await gate;
          },
        });
        await queue.start();
        await queue.enqueue('outbox.event', { outboxId: 'first' }, 'outbox:1');
        await queue.enqueue('outbox.event', { outboxId: 'second' }, 'outbox:1');
        await sleep(100); // the first is running now
        await queue.enqueue('outbox.event', { outboxId: 'third' }, 'outbox:1');
        release();
        await queue.idle();
        expect(seen).toEqual(['first']);

        await queue.enqueue('outbox.event', { outboxId: 'later' }, 'outbox:1');
        await queue.idle();
        expect(seen).toEqual(['first', 'later']);
      });

      it('retries a failing job with growing (exponential) delays until it succeeds', async () => {
        const attempts: number[] = [];
        register(queue, {
          'formula.backfill': async () => {
            attempts.push(Date.now());
            if (attempts.length < 3) throw new Error(`transient failure ${attempts.length}`);
          },
        });
        await queue.start();
        await queue.enqueue('formula.backfill', { jobId: 'j1', module: 'accounts' }, 'backfill:j1');
        await queue.idle(); // waits through the retries
        expect(attempts).toHaveLength(3);
        const [first, second] = [attempts[1] - attempts[0], attempts[2] - attempts[1]];
        expect(first).toBeGreaterThanOrEqual(90);
        expect(second).toBeGreaterThan(first);
      });

      it('idle() resolves at once when nothing is queued, and only after running jobs finish', async () => {
        let finished = false;
        register(queue, {
          'outbox.event': async () => {
            await sleep(300);
            finished = true;
          },
        });
        await queue.start();
        await queue.idle();
        await queue.enqueue('outbox.event', { outboxId: '1' });
        await queue.idle();
        expect(finished).toBe(true);
      });

      it('runs a schedule once per cron tick (registering it twice does not double it) until it is removed', async () => {
        let ticks = 0;
        register(queue, { 'workflow.tick': async () => void ticks++ });
        await queue.start();
        await queue.schedule('workflow:nightly', '* * * * * *', 'workflow.tick', { workflow: 'nightly' });
        await queue.schedule('workflow:nightly', '* * * * * *', 'workflow.tick', { workflow: 'nightly' });
        await queue.idle(); // the next tick waiting is not work in hand
        await sleep(2500);
        expect(ticks).toBeGreaterThanOrEqual(2);
        expect(ticks).toBeLessThanOrEqual(3);

        await queue.unschedule('workflow:nightly');
        await queue.idle();
        const before = ticks;
        await sleep(1300);
        expect(ticks).toBe(before);
        await queue.unschedule('workflow:never-scheduled');
      });

      it('rejects a schedule with a bad cron pattern', async () => {
        register(queue, {});
        await expect(queue.schedule('bad', 'every day', 'workflow.tick', { workflow: 'x' })).rejects.toThrow(CronPatternException);
        await expect(queue.schedule('bad', '', 'workflow.tick', { workflow: 'x' })).rejects.toThrow('is not a cron pattern');
      });

      it('refuses to start while a job name has no handler, and refuses a second handler', async () => {
        queue.handle('outbox.event', async () => undefined);
        expect(() => queue.handle('outbox.event', async () => undefined)).toThrow('Job "outbox.event" already has a handler');
        await expect(queue.start()).rejects.toThrow(/Jobs without a handler: formula\.backfill/);
      });
    },
  );
}
