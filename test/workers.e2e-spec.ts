import { Queue } from 'bullmq';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { JobRepository } from '../src/jobs/job.repository';
import { BullmqQueueDriver } from '../src/queue/bullmq-queue.driver';
import { JOB_QUEUE, type JobQueue } from '../src/queue/job-queue';
import { createRedis, redactRedisUrl } from '../src/queue/redis-connection';
import { account } from './support/factories';
import { describeIfService, redisAvailable, removeQueue, TEST_REDIS_URL } from './support/redis';
import { startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const ROOT = join(__dirname, '..');
const JOBS = 50;

interface WorkerProcess {
  child: ChildProcess;
  output: string;
  exit: Promise<number | null>;
}

/** Starts `node dist/src/worker.js` on the test app's database and queue; resolves once it says it started. */
async function startWorker(t: TestApp): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/worker.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: t.config.databaseUrl,
      DATABASE_SCHEMA: t.config.databaseSchema,
      REDIS_URL: t.config.redisUrl,
      ADMIN_API_KEY: t.config.adminApiKey,
      PROCESS_ROLE: '',
      LOG_LEVEL: 'log',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: WorkerProcess = {
    child,
    output: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (chunk: Buffer) => (worker.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (worker.output += chunk.toString()));
  const started = new RegExp(`Worker ${child.pid} started`);
  await Promise.race([
    eventually(
      async () => worker.output,
      (output) => started.test(output),
      60000,
    ),
    worker.exit.then((code) => {
      throw new Error(`worker exited with ${code} before starting:\n${worker.output}`);
    }),
  ]);
  return worker;
}

describeIfService(
  Boolean(process.env.DATABASE_URL) && redisAvailable(),
  process.env.DATABASE_URL
    ? `Redis is not reachable at ${redactRedisUrl(TEST_REDIS_URL)}`
    : 'DATABASE_URL is not set (worker processes share PostgreSQL; PGlite cannot be shared)',
  'two worker processes on one Redis and one database',
  () => {
    let t: TestApp;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      // The workers run the compiled engine: build it from the current sources.
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        stdio: 'pipe',
      });
      // This process serves HTTP and queues jobs (role api); the two workers run them.
      t = await startTestApp({ redisUrl: TEST_REDIS_URL, processRole: 'api' });
      workers.push(...(await Promise.all([startWorker(t), startWorker(t)])));
    }, 180000);

    afterAll(async () => {
      for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const queue = t?.app.get(JOB_QUEUE);
      await t?.close();
      if (queue instanceof BullmqQueueDriver) await removeQueue(queue.queueName);
    });

    it(`runs each of ${JOBS} jobs queued by another process exactly once`, async () => {
      const queue = t.app.get<JobQueue>(JOB_QUEUE);
      expect(queue).toBeInstanceOf(BullmqQueueDriver);
      const jobs = t.app.get(JobRepository);
      for (let i = 0; i < 3; i++) await account(t, { name: `Worker test ${i}` });
      // A formula backfill counts its runs: each run of the job increments its row's `attempts`.
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) ids.push(await jobs.create('formula.backfill', { module: 'accounts' }));
      await Promise.all(ids.map((jobId) => queue.enqueue('formula.backfill', { jobId, module: 'accounts' }, `backfill:${jobId}`)));
      await queue.idle();

      const rows = await eventually(
        () => t.db.query<{ status: string; attempts: number }>(`SELECT status, attempts FROM jobs WHERE id = ANY($1::uuid[])`, [ids]),
        (r) => r.length === JOBS && r.every((row) => row.status === 'completed'),
        30000,
      );
      expect(rows.map((row) => row.attempts)).toEqual(Array(JOBS).fill(1));

      // Who ran them: each job one of the two worker processes, and each process some of the jobs.
      const client = createRedis(TEST_REDIS_URL);
      const bull = new Queue((queue as BullmqQueueDriver).queueName, { connection: client });
      try {
        const done = (await bull.getJobs(['completed'], 0, -1)).filter((job) => ids.includes((job.data as { jobId: string }).jobId));
        expect(done).toHaveLength(JOBS);
        const byWorker = new Map<string, number>();
        for (const job of done) byWorker.set(job.processedBy ?? '?', (byWorker.get(job.processedBy ?? '?') ?? 0) + 1);
        const pids = workers.map(({ child }) => String(child.pid));
        expect([...byWorker.keys()].map((name) => name.split(':').pop()).sort()).toEqual(pids.sort()); // both took a share
      } finally {
        await bull.close();
        await client.quit();
      }
    }, 60000);

    it('stops each worker gracefully on SIGTERM', async () => {
      for (const { child } of workers) child.kill('SIGTERM');
      const codes = await Promise.all(workers.map(({ exit }) => exit));
      expect(codes).toEqual([0, 0]);
      for (const { child, output } of workers) expect(output).toContain(`Worker ${child.pid} stopped`);
    }, 30000);
  },
);
