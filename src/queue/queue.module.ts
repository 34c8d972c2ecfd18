import { Global, Inject, Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { BullmqQueueDriver, bullmqQueueName } from './bullmq-queue.driver';
import { InProcessQueueDriver } from './in-process-queue.driver';
import { JOB_QUEUE, type JobQueue } from './job-queue';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';
import { redactRedisUrl } from './redis-connection';

/**
 * The driver for this configuration: BullMQ when `REDIS_URL` is set (running a
 * worker unless the process role is `api`), otherwise in-process (which always
 * runs its jobs: there is no other process to run them).
 */
export async function createJobQueue(config: AppConfig): Promise<JobQueue> {
  const logger = new Logger('Queue');
  if (!config.redisUrl) {
    logger.log(`Job queue: in-process, concurrency ${config.queueConcurrency} (set REDIS_URL for BullMQ and separate worker processes)`);
    return new InProcessQueueDriver(config.queueConcurrency);
  }
  const runWorkers = config.processRole !== 'api';
  const driver = await BullmqQueueDriver.connect({
    redisUrl: config.redisUrl,
    queueName: bullmqQueueName(config),
    runWorkers,
    concurrency: config.queueConcurrency,
    disposable: !config.databaseUrl && config.dataDir === 'memory://',
  });
  logger.log(
    `Job queue: BullMQ queue ${driver.queueName} on ${redactRedisUrl(config.redisUrl)}; ` +
      (runWorkers ? `this process runs workers (concurrency ${config.queueConcurrency})` : 'this process queues jobs for worker processes'),
  );
  return driver;
}

/** The job queue port (driver chosen by configuration) and the outbox relay. */
@Global()
@Module({
  providers: [
    { provide: JOB_QUEUE, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createJobQueue(config) },
    OutboxRepository,
    OutboxRelay,
  ],
  exports: [JOB_QUEUE, OutboxRepository, OutboxRelay],
})
export class QueueModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(JOB_QUEUE) private readonly queue: JobQueue) {}

  // Every service registers its handlers in its constructor, so by now all are known: check them and start working.
  async onApplicationBootstrap(): Promise<void> {
    await this.queue.start();
  }

  // Before the database closes (that happens at application shutdown), let running jobs finish.
  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
