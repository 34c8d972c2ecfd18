/**
 * The job queue port. Jobs are typed (a name and its payload) and idempotent:
 * a handler may run twice for one job and must not do anything twice. Drivers:
 * in-process (the default) and, later, BullMQ on Redis.
 */
export const JOB_NAMES = ['outbox.event', 'formula.backfill'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobPayloads {
  /** An outbox row to handle (by id; the handler reads the row). */
  'outbox.event': { outboxId: string };
  /** Recompute the formulas of every record of a module, tracked as job `jobId`. */
  'formula.backfill': { jobId: string; module: string };
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N]) => Promise<void>;

export interface JobQueue {
  /** Queues a job; `key` makes it idempotent: a job with a key still queued or running is not queued twice. */
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], key?: string): Promise<void>;
  /** Registers the one handler of a job name; a second registration is a programming error. */
  handle<N extends JobName>(name: N, handler: JobHandler<N>): void;
  /** Resolves when nothing is queued or running (tests and shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Nest injection token for the {@link JobQueue}. */
export const JOB_QUEUE = Symbol('JOB_QUEUE');
