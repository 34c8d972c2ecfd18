import { Global, Inject, Module, type OnModuleDestroy } from '@nestjs/common';
import { InProcessQueueDriver } from './in-process-queue.driver';
import { JOB_QUEUE, type JobQueue } from './job-queue';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';

/** The job queue port (in-process driver; BullMQ arrives with workflows) and the outbox relay. */
@Global()
@Module({
  providers: [{ provide: JOB_QUEUE, useFactory: () => new InProcessQueueDriver() }, OutboxRepository, OutboxRelay],
  exports: [JOB_QUEUE, OutboxRepository, OutboxRelay],
})
export class QueueModule implements OnModuleDestroy {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}

  // Before the database closes (that happens at application shutdown), let running jobs finish.
  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
