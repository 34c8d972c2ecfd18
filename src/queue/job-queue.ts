/**
 * The job queue port. Jobs are typed (a name and its payload) and idempotent:
 * a handler may run twice for one job and must not do anything twice. Drivers:
 * in-process (the default, `in-process-queue.driver.ts`) and BullMQ on Redis
 * (`bullmq-queue.driver.ts`, when `REDIS_URL` is set); `queue.module.ts` chooses.
 */
export const JOB_NAMES = ['outbox.event', 'formula.backfill', 'mail.send', 'workflow.run', 'workflow.tick'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobPayloads {
  /** An outbox event to handle: its row's id, and the event itself (without it, the handler reads the row). */
  'outbox.event': { outboxId: string; topic?: string; payload?: unknown };
  /** Recompute the formulas of every record of a module, tracked as job `jobId`. */
  'formula.backfill': { jobId: string; module: string };
  /** Send one `mail_messages` row (by id; the handler reads the row and skips it once sent). */
  'mail.send': { messageId: string };
  /** Run (or continue) one workflow run from its next step. */
  'workflow.run': { runId: string };
  /** One tick of a scheduled workflow: start a run for every record its filter selects. */
  'workflow.tick': { workflow: string };
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N]) => Promise<void>;

export interface JobQueue {
  /** Queues a job; `key` makes it idempotent: a job with a key still queued or running is not queued twice. */
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], key?: string): Promise<void>;
  /** Registers the one handler of a job name; a second registration is a programming error. */
  handle<N extends JobName>(name: N, handler: JobHandler<N>): void;
  /**
   * Runs job `name` with `payload` on every tick of `cron` (5 fields, or 6 with seconds first), once per
   * tick however many processes share the queue. `id` names the schedule: scheduling an existing id
   * replaces it. A bad cron expression is rejected. Callers register their schedules at every start
   * (the in-process driver keeps them in memory; BullMQ keeps them in Redis, where re-registering is a no-op).
   */
  schedule<N extends JobName>(id: string, cron: string, name: N, payload: JobPayloads[N]): Promise<void>;
  /** Removes a schedule; an unknown id is ignored. */
  unschedule(id: string): Promise<void>;
  /**
   * Starts running jobs, once every handler is registered (the queue module calls it at application
   * bootstrap). Refuses to start when a job name has no handler. A process that runs no workers (role
   * `api` on BullMQ) only checks the handlers.
   */
  start(): Promise<void>;
  /** Resolves when nothing is queued, running or waiting for a retry (tests and shutdown); future schedule ticks do not count. */
  idle(): Promise<void>;
  /** Stops taking jobs, lets the running ones finish, and releases connections and timers. */
  close(): Promise<void>;
}

/** Nest injection token for the {@link JobQueue}. */
export const JOB_QUEUE = Symbol('JOB_QUEUE');
