import { Logger } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { Pool, PoolClient } from 'pg';
import type { AppConfig } from '../config/app.config';
import { AsyncMutex } from './async-mutex';
import type { Database, SqlExecutor } from './database';
import { MIGRATIONS } from './migrations';

/**
 * The {@link Database} port on TypeORM: the `pg` pool for PostgreSQL, typeorm-pglite
 * for the embedded default. Both run the same migrations and the same SQL.
 */
export class TypeormDatabase implements Database {
  private readonly logger = new Logger('Database');
  // PGlite serves one connection; PostgreSQL needs no lock.
  private readonly mutex: AsyncMutex | undefined;

  private constructor(
    readonly kind: 'postgres' | 'pglite',
    private readonly dataSource: DataSource,
  ) {
    this.mutex = kind === 'pglite' ? new AsyncMutex() : undefined;
  }

  /** Connects, creates the schema if needed and runs pending migrations. */
  static async open(config: AppConfig): Promise<TypeormDatabase> {
    const common = {
      type: 'postgres' as const,
      migrations: MIGRATIONS,
      migrationsTableName: 'schema_migrations',
      synchronize: false,
      logging: false,
    };
    const dataSource = config.databaseUrl
      ? new DataSource({
          ...common,
          url: config.databaseUrl,
          schema: config.databaseSchema,
          extra: { max: 20, options: `-c search_path=${config.databaseSchema}` },
        })
      : new DataSource({
          ...common,
          driver: new PGliteDriver(config.dataDir === 'memory://' ? {} : { dataDir: config.dataDir }).driver,
        });
    await dataSource.initialize();
    const database = new TypeormDatabase(config.databaseUrl ? 'postgres' : 'pglite', dataSource);
    await database.migrate(config.databaseSchema);
    return database;
  }

  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const run = async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await rowsOf<T>(runner, sql, params);
      } finally {
        await runner.release();
      }
    };
    return this.mutex ? this.mutex.run(run) : run();
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const run = () =>
      this.dataSource.transaction((manager) =>
        work({ query: <R>(sql: string, params: unknown[] = []) => rowsOf<R>(manager.queryRunner!, sql, params) }),
      );
    return this.mutex ? this.mutex.run(run) : run();
  }

  async ping(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch (error) {
      this.logger.warn(`Database ping failed: ${(error as Error).message}`);
      return false;
    }
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.kind !== 'postgres') return async () => undefined;
    let stopped = false;
    let client: PoolClient | undefined;
    const connect = async (): Promise<void> => {
      // A dedicated connection: LISTEN belongs to a session, so it cannot go back to the pool.
      const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
      const next = await pool.connect();
      next.on('notification', (message) => {
        if (message.channel === channel) onMessage(message.payload ?? '');
      });
      next.on('error', (error) => {
        this.logger.warn(`LISTEN ${channel} lost its connection (${error.message}); reconnecting`);
        next.release(error);
        client = undefined;
        if (!stopped) setTimeout(() => void reconnect(), 1000).unref();
      });
      await next.query(`LISTEN "${channel}"`);
      client = next;
    };
    const reconnect = async (): Promise<void> => {
      try {
        await connect();
        // Anything sent while the connection was down was missed: tell the listener to catch up.
        onMessage('');
      } catch (error) {
        if (!stopped) setTimeout(() => void reconnect(), 1000).unref();
        this.logger.warn(`LISTEN ${channel} failed: ${(error as Error).message}`);
      }
    };
    await connect();
    return async () => {
      stopped = true;
      if (!client) return;
      await client.query(`UNLISTEN "${channel}"`).catch(() => undefined);
      client.release();
      client = undefined;
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private async migrate(schema: string): Promise<void> {
    if (this.kind === 'pglite') {
      await this.dataSource.runMigrations({ transaction: 'each' });
      return;
    }
    // Several processes may start at once: the advisory lock lets one migrate while the others wait.
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`metacrm:migrate:${schema}`]);
      try {
        await this.dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`metacrm:migrate:${schema}`]);
      }
    } finally {
      await runner.release();
    }
  }
}

/** Rows of any statement; TypeORM's plain `query` answers UPDATE/DELETE with [rows, count] instead. */
async function rowsOf<T>(runner: QueryRunner, sql: string, params: unknown[]): Promise<T[]> {
  const result = await runner.query(sql, params, true);
  return result.records as T[];
}
