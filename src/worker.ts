import { Logger } from '@nestjs/common';
import { createWorkerContext } from './app.factory';
import { ConfigException, loadConfig } from './config/app.config';
import { MetadataBootException } from './metadata/metadata.service';

/**
 * A queue worker process (`npm run start:worker`): the engine without HTTP, with
 * role `worker`, running BullMQ jobs from the queue the API processes fill. Any
 * number of them can share one Redis and one database; each job runs on one.
 * SIGTERM or SIGINT stops taking jobs, lets the running ones finish, and exits.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { processRole: 'worker' });
  const logger = new Logger('Worker');
  const app = await createWorkerContext(config);
  logger.log(`Worker ${process.pid} started (concurrency ${config.queueConcurrency})`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting for running jobs`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: finishing running jobs, then exiting`);
    app.close().then(
      () => {
        logger.log(`Worker ${process.pid} stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  // Configuration and metadata problems are the operator's to fix: print them plainly, without a stack.
  if (error instanceof ConfigException || error instanceof MetadataBootException) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
