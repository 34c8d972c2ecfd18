import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { JOB_QUEUE, type JobPayloads, type JobQueue } from './job-queue';
import { OutboxRepository } from './outbox.repository';

export type OutboxTopicHandler = (payload: unknown) => Promise<void>;

const POLL_MS = 2000;
/** Handled events are deleted in batches: at most this many, this long after the first of them was handled. */
const DELETE_BATCH = 100;
const DELETE_AFTER_MS = 50;

/**
 * Hands committed outbox events to the job queue: at once when this process
 * wrote them (`kick`), and by polling for events of other processes or of a
 * process that died between commit and enqueue. An event is deleted only when
 * its handler has finished, so it is handled at least once; handlers are
 * idempotent.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly topics = new Map<string, OutboxTopicHandler>();
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private stopped = false;
  private handled: string[] = [];
  private deleteTimer?: NodeJS.Timeout;
  private deleting: Promise<void> = Promise.resolve();

  constructor(
    private readonly outbox: OutboxRepository,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
  ) {
    queue.handle('outbox.event', (job) => this.process(job));
  }

  /** Registers the one handler of an outbox topic. */
  on(topic: string, handler: OutboxTopicHandler): void {
    if (this.topics.has(topic)) throw new Error(`Outbox topic "${topic}" already has a handler`);
    this.topics.set(topic, handler);
  }

  onApplicationBootstrap(): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  // After the queue has let its running jobs finish, and while the database is still open.
  async beforeApplicationShutdown(): Promise<void> {
    await this.deleteHandled();
  }

  /** Dispatch pending events soon (coalesced: many kicks in one tick lease once). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch().catch((error: Error) => this.logger.error(`Outbox dispatch failed: ${error.message}`));
    });
  }

  private async dispatch(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const events = await this.outbox.lease();
      for (const { id, topic, payload } of events)
        await this.queue.enqueue('outbox.event', { outboxId: id, topic, payload }, `outbox:${id}`);
      if (events.length < 100) return;
    }
  }

  private async process(job: JobPayloads['outbox.event']): Promise<void> {
    let { topic, payload } = job;
    if (topic === undefined) {
      // A job without the event (queued by an earlier version): the row has it.
      const row = await this.outbox.find(job.outboxId);
      if (!row) return; // handled and deleted already
      ({ topic, payload } = row);
    }
    const handler = this.topics.get(topic);
    try {
      if (!handler) throw new Error(`No handler for outbox topic "${topic}"`);
      await handler(payload);
    } catch (error) {
      await this.outbox.markFailed(job.outboxId, (error as Error).message);
      throw error;
    }
    this.markHandled(job.outboxId);
  }

  /**
   * Deletes a handled event soon, with others handled about the same time: one statement for many. Until then its
   * lease keeps it from being handed out again; if this process stops first, the event is handled once more after
   * its lease ends (handlers are idempotent).
   */
  private markHandled(id: string): void {
    this.handled.push(id);
    if (this.handled.length >= DELETE_BATCH) void this.deleteHandled();
    else this.deleteTimer ??= setTimeout(() => void this.deleteHandled(), DELETE_AFTER_MS);
  }

  private deleteHandled(): Promise<void> {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const ids = this.handled.splice(0);
    if (ids.length === 0) return this.deleting;
    this.deleting = this.deleting.then(() =>
      this.outbox.deleteHandled(ids).catch((error: Error) => {
        this.logger.warn(`Deleting ${ids.length} handled outbox events failed (they will be handled again): ${error.message}`);
      }),
    );
    return this.deleting;
  }
}
