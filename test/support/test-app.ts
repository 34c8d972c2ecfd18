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

/** Two engine processes on one database schema, as {@link describeTwoProcesses} hands them to its tests. */
export interface TwoProcesses {
  a: TestApp;
  b: TestApp;
}

/**
 * `describe` for what one engine process sees of another's doing (a publish announced by LISTEN/NOTIFY, say): `body`
 * gets two apps on one fresh schema, started before its tests and closed after them. Two processes share one database
 * only on PostgreSQL (PGlite serves one process), so without DATABASE_URL the tests are skipped.
 */
export function describeTwoProcesses(name: string, body: (apps: TwoProcesses) => void): void {
  (process.env.DATABASE_URL ? describe : describe.skip)(name, () => {
    const apps = {} as TwoProcesses;
    beforeAll(async () => {
      const databaseSchema = `t_${randomBytes(6).toString('hex')}`;
      // `a` leaves the schema to `b`, which drops it (and its queue) when it closes.
      apps.a = await startTestApp({ databaseSchema }, { keepSchema: true });
      apps.b = await startTestApp({ databaseSchema });
    });
    afterAll(async () => {
      await apps.a?.close();
      await apps.b?.close();
    });
    body(apps);
  });
}
