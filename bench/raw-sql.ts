import type { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';

/**
 * The smallest SQL interface the bench needs, over a raw `pg` pool (PostgreSQL)
 * or the raw PGlite instance the engine itself runs on (the embedded default).
 */
export interface RawSql {
  readonly kind: 'postgres' | 'pglite';
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** A `pg.Pool` in `schema`, sized like the engine's pool. */
export function postgresSql(databaseUrl: string, schema: string, max: number): RawSql {
  const pool = new Pool({ connectionString: databaseUrl, max, options: `-c search_path=${schema}` });
  return {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as T[];
    },
    close: () => pool.end(),
  };
}

/** The PGlite instance shared with the engine; the engine closes it. */
export function pgliteSql(instance: PGlite): RawSql {
  return {
    kind: 'pglite',
    async query<T>(sql: string, params?: unknown[]) {
      return (await instance.query<T>(sql, params)).rows;
    },
    close: async () => undefined,
  };
}
