import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JOB_QUEUE, type JobQueue } from './job-queue';
import { OutboxRepository } from './outbox.repository';

export type OutboxTopicHandler = (payload: unknown) => Promise<void>;

const POLL_MS = 2000;

/**
 * Hands committed outbox events to the job queue: at once when this process
 * wrote them (`kick`), and by polling for events of other processes or of a
 * process that died between commit and enqueue. An event is deleted only when
 * its handler has finished, so it is handled at least once; handlers are
 * idempotent.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OutboxRelay');
  private readonly topics = new Map<string, OutboxTopicHandler>();
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
  ) {
    queue.handle('outbox.event', ({ outboxId }) => this.process(outboxId));
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
      const ids = await this.outbox.lease();
      for (const id of ids) await this.queue.enqueue('outbox.event', { outboxId: id }, `outbox:${id}`);
      if (ids.length < 100) return;
    }
  }

  private async process(id: string): Promise<void> {
    const row = await this.outbox.find(id);
    if (!row) return; // handled and deleted already
    const handler = this.topics.get(row.topic);
    try {
      if (!handler) throw new Error(`No handler for outbox topic "${row.topic}"`);
      await handler(row.payload);
      await this.outbox.markProcessed(id);
    } catch (error) {
      await this.outbox.markFailed(id, (error as Error).message);
      throw error;
    }
  }
}
