import { Logger } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions } from 'bullmq';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigException, type AppConfig } from '../config/app.config';
import { assertCronPattern, CRON_TIME_ZONE } from './cron-schedule';
import { JOB_NAMES, type JobHandler, type JobName, type JobPayloads, type JobQueue } from './job-queue';
import type { Redis } from 'ioredis';
import { createRedis, redactRedisUrl } from './redis-connection';

/** Retries after 200 ms, 400 ms, 800 ms, 1.6 s (exponential); then the job is `failed` and kept for inspection. */
const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} satisfies JobsOptions;

const IDLE_POLL_MS = 50;
const CONNECT_TIMEOUT_MS = 5000;

export interface BullmqQueueOptions {
  redisUrl: string;
  /** The BullMQ queue; every process of one database shares it ({@link bullmqQueueName}). */
  queueName: string;
  /** Run a BullMQ worker in this process (roles `all` and `worker`); without, jobs are only queued. */
  runWorkers: boolean;
  /** Jobs this process runs at once. */
  concurrency: number;
  /** Delete the queue's keys at close: for a queue as throw-away as the in-memory database it serves. */
  disposable?: boolean;
  /** How long to wait for Redis at start before refusing to start. */
  connectTimeoutMs?: number;
}

/**
 * The job queue on BullMQ (Redis): jobs survive restarts, and any number of
 * processes share one queue — API processes queue jobs, worker processes run
 * them, each job on one worker at a time, retried with exponential backoff.
 *
 * It uses bullmq's `Queue` and `Worker` directly rather than `@nestjs/bullmq`:
 * that module binds processors to decorated classes discovered at bootstrap,
 * while this port registers one handler per job name at run time (`handle()`)
 * and decides from configuration whether this process runs workers at all;
 * keeping Nest out of the driver keeps the port framework-agnostic and lets the
 * driver be built and tested without an application.
 *
 * An idempotency key becomes BullMQ's deduplication id: a job with the same key
 * is not queued again while the first is waiting, delayed or running (BullMQ's
 * `jobId` would also refuse it for as long as the finished job is kept, and
 * refuses most keys containing ":").
 */
export class BullmqQueueDriver implements JobQueue {
  private readonly logger = new Logger('BullmqQueue');
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly queue: Queue;
  private worker?: Worker;
  private closed = false;
  private closing?: Promise<void>;

  /** Connects, checks Redis (reachable, `maxmemory-policy noeviction`) and returns the driver; throws a {@link ConfigException} otherwise. */
  static async connect(options: BullmqQueueOptions): Promise<BullmqQueueDriver> {
    const client = createRedis(options.redisUrl, `metacrm:${options.queueName}`);
    try {
      await checkRedis(client, options.redisUrl, options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return new BullmqQueueDriver(client, options);
  }

  private constructor(
    private readonly client: Redis,
    private readonly options: BullmqQueueOptions,
  ) {
    // The queue shares this client (BullMQ leaves a caller's connection open); a worker duplicates it.
    this.queue = new Queue(options.queueName, { connection: client, streams: { events: { maxLen: 1000 } } });
    this.queue.on('error', (error) => this.logger.error(`Queue ${options.queueName}: ${error.message}`));
  }

  get queueName(): string {
    return this.options.queueName;
  }

  handle<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (this.handlers.has(name)) throw new Error(`Job "${name}" already has a handler`);
    this.handlers.set(name, handler as JobHandler<JobName>);
  }

  async start(): Promise<void> {
    const missing = JOB_NAMES.filter((name) => !this.handlers.has(name));
    if (missing.length > 0) throw new Error(`Jobs without a handler: ${missing.join(', ')}`);
    if (!this.options.runWorkers || this.worker || this.closed) return;
    const worker = new Worker(this.options.queueName, (job) => this.process(job), {
      connection: this.client,
      concurrency: this.options.concurrency,
      name: `${hostname()}:${process.pid}`,
    });
    worker.on('error', (error) => this.logger.error(`Worker on ${this.options.queueName}: ${error.message}`));
    worker.on('failed', (job, error) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade >= attempts || error instanceof UnrecoverableError) {
        this.logger.error(`Job ${job.name} (${job.id}) failed after ${job.attemptsMade} attempts: ${error.message}`);
      } else {
        this.logger.warn(
          `Job ${job.name} (${job.id}) failed (attempt ${job.attemptsMade} of ${attempts}), retrying with backoff: ${error.message}`,
        );
      }
    });
    this.worker = worker;
    await worker.waitUntilReady();
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], key?: string): Promise<void> {
    if (this.closed) return;
    await this.queue.add(name, payload, key === undefined ? JOB_OPTIONS : { ...JOB_OPTIONS, deduplication: { id: key } });
  }

  async schedule<N extends JobName>(id: string, cron: string, name: N, payload: JobPayloads[N]): Promise<void> {
    assertCronPattern(cron);
    // A job scheduler makes one job per tick with an id derived from the tick, so processes that all
    // register the same schedule still get each tick once.
    await this.queue.upsertJobScheduler(id, { pattern: cron, tz: CRON_TIME_ZONE }, { name, data: payload, opts: JOB_OPTIONS });
  }

  async unschedule(id: string): Promise<void> {
    await this.queue.removeJobScheduler(id);
  }

  async idle(): Promise<void> {
    while (!this.closed && !(await this.isIdle())) await new Promise((done) => setTimeout(done, IDLE_POLL_MS));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      // Stops taking jobs and waits for the running ones (a crash instead leaves them to BullMQ's stalled-job check).
      await this.worker?.close();
      if (this.options.disposable) await this.queue.obliterate({ force: true }).catch(() => undefined);
      await this.queue.close();
      await this.client.quit();
    })();
    await this.closing;
  }

  private async process(job: Job): Promise<void> {
    const handler = this.handlers.get(job.name as JobName);
    if (!handler) throw new UnrecoverableError(`No handler for job "${job.name}"`);
    await handler(job.data as JobPayloads[JobName]);
  }

  private async isIdle(): Promise<boolean> {
    const before = await this.counts();
    if (before.busy > 0) return false;
    if (before.delayed === 0) return true;
    // A job scheduler keeps its next tick as a delayed job: that is not work in hand (a retry is).
    const jobs = await this.queue.getJobs(['delayed'], 0, before.delayed - 1);
    if (jobs.length !== before.delayed || !jobs.every((job) => job.repeatJobKey !== undefined && job.attemptsMade === 0)) return false;
    // A delayed job promoted between the two reads now counts as waiting or active.
    const after = await this.counts();
    return after.busy === 0 && after.delayed === before.delayed;
  }

  private async counts(): Promise<{ busy: number; delayed: number }> {
    const { delayed = 0, ...others } = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    return { busy: Object.values(others).reduce((sum, count) => sum + count, 0), delayed };
  }
}

/**
 * The queue of one database: every process on the same PostgreSQL database and
 * schema shares it, and nothing else does (parallel test schemas, two CRMs on one
 * Redis). An in-memory PGlite database gets a queue of its own.
 */
export function bullmqQueueName(config: Pick<AppConfig, 'databaseUrl' | 'databaseSchema' | 'dataDir'>): string {
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    return `metacrm-${config.databaseSchema}-${shortHash(`${url.hostname}:${url.port || 5432}${url.pathname}`)}`;
  }
  if (config.dataDir === 'memory://') return `metacrm-memory-${randomBytes(6).toString('hex')}`;
  return `metacrm-pglite-${shortHash(resolve(config.dataDir))}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** `maxmemory_policy` from an `INFO` (or `INFO memory`) reply. */
export function evictionPolicyFromInfo(info: string): string | undefined {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

/** Refuses a Redis that may evict keys: an evicted key is a lost or corrupted job. */
export function assertNoEviction(policy: string | undefined, redisUrl: string): void {
  if (policy === 'noeviction') return;
  throw new ConfigException([
    `REDIS_URL: Redis at ${redactRedisUrl(redisUrl)} has maxmemory-policy "${policy ?? 'unknown'}"; the job queue needs "noeviction" ` +
      `(with any other policy Redis may delete queued jobs under memory pressure). ` +
      `Set "maxmemory-policy noeviction" in redis.conf (or CONFIG SET maxmemory-policy noeviction), or point REDIS_URL at another Redis.`,
  ]);
}

async function checkRedis(client: Redis, redisUrl: string, timeoutMs: number): Promise<void> {
  let lastError: Error | undefined;
  const onError = (error: Error) => (lastError = error);
  client.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ConfigException([
              `REDIS_URL: cannot reach Redis at ${redactRedisUrl(redisUrl)} within ${timeoutMs} ms` +
                `${lastError ? ` (${lastError.message || (lastError as NodeJS.ErrnoException).code})` : ''}. ` +
                'Start Redis, or unset REDIS_URL to run the job queue in-process.',
            ]),
          ),
        timeoutMs,
      );
    });
    const info: string = await Promise.race([client.info('memory'), timeout]);
    let policy = evictionPolicyFromInfo(info);
    if (policy === undefined) {
      const reply = (await Promise.race([client.call('CONFIG', 'GET', 'maxmemory-policy'), timeout])) as string[];
      policy = reply[1];
    }
    assertNoEviction(policy, redisUrl);
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}
