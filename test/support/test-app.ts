import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/app.config';
import { DATABASE, type Database } from '../../src/database/database';
import { BullmqQueueDriver } from '../../src/queue/bullmq-queue.driver';
import { JOB_QUEUE, type JobQueue } from '../../src/queue/job-queue';
import { removeQueue } from './redis';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestApp {
  app: NestExpressApplication;
  db: Database;
  config: AppConfig;
  /** supertest agent bound to the app's HTTP server */
  http: ReturnType<typeof request>;
  /** `Authorization` header value for the bootstrap admin key */
  auth: string;
  close(): Promise<void>;
}

/**
 * Starts the engine for a test file: on PostgreSQL when DATABASE_URL is set (in a
 * fresh schema of its own, dropped afterwards), otherwise on in-memory PGlite.
 */
export async function startTestApp(overrides: Partial<AppConfig> = {}, options: { keepSchema?: boolean } = {}): Promise<TestApp> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const config = loadConfig(
    {
      ...process.env,
      ADMIN_API_KEY: ADMIN_KEY,
      DATA_DIR: 'memory://',
      DATABASE_SCHEMA: process.env.DATABASE_URL ? schema : 'public',
      LOG_LEVEL: 'error',
    },
    overrides,
  );
  const app = await createApp(config, { logger: false });
  const db = app.get<Database>(DATABASE);
  return {
    app,
    db,
    config,
    http: request(app.getHttpServer()),
    auth: `Bearer ${ADMIN_KEY}`,
    async close() {
      const queue = app.get<JobQueue>(JOB_QUEUE);
      if (db.kind === 'postgres' && !options.keepSchema && config.databaseSchema !== 'public') {
        await db.query(`DROP SCHEMA IF EXISTS "${config.databaseSchema}" CASCADE`);
      }
      await app.close();
      // The schema is gone; so must be its BullMQ queue, or every run would leave one behind in Redis.
      if (queue instanceof BullmqQueueDriver && !options.keepSchema) await removeQueue(queue.queueName);
    },
  };
}
