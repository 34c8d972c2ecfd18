import { Logger } from '@nestjs/common';
import { assertCronPattern, nextCronTick } from './cron-schedule';
import { JOB_NAMES, type JobHandler, type JobName, type JobPayloads, type JobQueue } from './job-queue';

interface Schedule {
  cron: string;
  name: JobName;
  payload: unknown;
  /** The tick the timer waits for (epoch ms). */
  due: number;
  timer?: NodeJS.Timeout;
}

interface QueuedJob {
  name: JobName;
  payload: unknown;
  key?: string;
  attempt: number;
}

/** Retries after 100 ms, 400 ms, 1.6 s … (exponential), then gives up and logs. */
const MAX_ATTEMPTS = 5;
const BASE_DELAY_MS = 100;

/**
 * The in-process job queue: the default when no Redis is configured. Jobs run in
 * this process, a few at a time, with retries and exponential backoff. Work that
 * must survive a crash is kept in the database (the outbox, the jobs table) and
 * re-enqueued at start, so losing this in-memory queue loses nothing.
 * Schedules are timers in this process (there is no other process to share
 * ticks with); their owners register them again at every start.
 */
export class InProcessQueueDriver implements JobQueue {
  private readonly logger = new Logger('InProcessQueue');
  private readonly handlers = new Map<JobName, JobHandler<JobName>>();
  private readonly pending: QueuedJob[] = [];
  private readonly keys = new Set<string>();
  private readonly schedules = new Map<string, Schedule>();
  private running = 0;
  private delayed = 0;
  private closed = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly concurrency = 2) {}

  handle<N extends JobName>(name: N, handler: JobHandler<N>): void {
    if (this.handlers.has(name)) throw new Error(`Job "${name}" already has a handler`);
    this.handlers.set(name, handler as JobHandler<JobName>);
  }

  /** Every job name must have exactly one handler before work starts (checked at boot). */
  assertComplete(): void {
    const missing = JOB_NAMES.filter((name) => !this.handlers.has(name));
    if (missing.length > 0) throw new Error(`Jobs without a handler: ${missing.join(', ')}`);
  }

  // Jobs run as soon as they are queued (handlers are registered in constructors, before any enqueue).
  async start(): Promise<void> {
    this.assertComplete();
  }

  async schedule<N extends JobName>(id: string, cron: string, name: N, payload: JobPayloads[N]): Promise<void> {
    assertCronPattern(cron);
    await this.unschedule(id);
    if (this.closed) return;
    const schedule: Schedule = { cron, name, payload, due: Date.now() };
    this.schedules.set(id, schedule);
    this.arm(id, schedule);
  }

  async unschedule(id: string): Promise<void> {
    const schedule = this.schedules.get(id);
    if (!schedule) return;
    clearTimeout(schedule.timer);
    this.schedules.delete(id);
  }

  /** Waits for the tick after the last one (never the same tick twice, even if a timer fires a little early). */
  private arm(id: string, schedule: Schedule): void {
    schedule.due = nextCronTick(schedule.cron, Math.max(Date.now(), schedule.due));
    schedule.timer = setTimeout(() => {
      if (this.closed || this.schedules.get(id) !== schedule) return;
      void this.enqueue(schedule.name, schedule.payload as JobPayloads[JobName]);
      this.arm(id, schedule);
    }, schedule.due - Date.now());
    schedule.timer.unref();
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], key?: string): Promise<void> {
    if (this.closed) return;
    if (key !== undefined) {
      if (this.keys.has(key)) return;
      this.keys.add(key);
    }
    this.pending.push({ name, payload, key, attempt: 1 });
    this.pump();
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending.length = 0;
    for (const id of [...this.schedules.keys()]) await this.unschedule(id);
    await new Promise<void>((resolve) => {
      const check = () => (this.running === 0 ? resolve() : setTimeout(check, 10));
      check();
    });
  }

  private isIdle(): boolean {
    return this.pending.length === 0 && this.running === 0 && this.delayed === 0;
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.isIdle()) this.waiters.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  private async run(job: QueuedJob): Promise<void> {
    const handler = this.handlers.get(job.name);
    try {
      if (!handler) throw new Error(`No handler for job "${job.name}"`);
      await handler(job.payload as JobPayloads[JobName]);
      if (job.key !== undefined) this.keys.delete(job.key);
    } catch (error) {
      const message = (error as Error).message;
      if (job.attempt >= MAX_ATTEMPTS || this.closed) {
        if (job.key !== undefined) this.keys.delete(job.key);
        this.logger.error(`Job ${job.name} failed after ${job.attempt} attempts: ${message}`);
        return;
      }
      const delay = BASE_DELAY_MS * 4 ** (job.attempt - 1);
      this.logger.warn(`Job ${job.name} failed (attempt ${job.attempt}), retrying in ${delay} ms: ${message}`);
      this.delayed++;
      setTimeout(() => {
        this.delayed--;
        this.pending.push({ ...job, attempt: job.attempt + 1 });
        this.pump();
      }, delay).unref();
    }
  }
}
