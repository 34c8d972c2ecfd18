import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, Database, SqlExecutor } from '../database/database';

/** One row of `api_keys`, in camelCase. Never leaves the auth module with its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  keyHash: string;
  permissions: string[];
  locked: boolean;
  bootstrap: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What it takes to insert a key; the database assigns id and timestamps. */
export interface NewApiKey {
  name: string;
  keyPrefix: string;
  keyHash: string;
  permissions: string[];
  bootstrap: boolean;
}

/** The statements on `api_keys`, usable inside or outside a transaction. */
export interface ApiKeyQueries {
  insert(key: NewApiKey): Promise<ApiKeyRecord>;
  list(): Promise<ApiKeyRecord[]>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  findBootstrap(): Promise<ApiKeyRecord | undefined>;
  /** Sets `locked` on a non-bootstrap key; undefined when no such key (unknown or bootstrap). */
  setLockedUnlessBootstrap(id: string, locked: boolean): Promise<ApiKeyRecord | undefined>;
  /** Deletes a non-bootstrap key; the deleted row, or undefined when no such key. */
  deleteUnlessBootstrap(id: string): Promise<ApiKeyRecord | undefined>;
  /** Gives the bootstrap key a new secret and resets it to an unlocked admin key. */
  resetBootstrap(id: string, keyHash: string, keyPrefix: string): Promise<ApiKeyRecord>;
  /** Stamps `last_used_at`, skipped in SQL when another process did so within the last minute. */
  touchLastUsed(id: string): Promise<void>;
}

/** The port the {@link ApiKeyService} depends on (an in-memory fake implements it in unit tests). */
export interface ApiKeyStore extends ApiKeyQueries {
  /** Runs `work` in one transaction holding a lock that serialises bootstrap-key setup across processes. */
  withBootstrapLock<T>(work: (tx: ApiKeyQueries) => Promise<T>): Promise<T>;
}

interface ApiKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  permissions: unknown;
  locked: boolean;
  bootstrap: boolean;
  created_at: Date | string;
  last_used_at: Date | string | null;
}

const COLUMNS = 'id, name, key_prefix, key_hash, permissions, locked, bootstrap, created_at, last_used_at';

/** SQL over one executor (the pool, or a transaction). */
class ApiKeySql implements ApiKeyQueries {
  constructor(protected readonly sql: SqlExecutor) {}

  async insert(key: NewApiKey): Promise<ApiKeyRecord> {
    const rows = await this.sql.query<ApiKeyRow>(
      `INSERT INTO api_keys (name, key_prefix, key_hash, permissions, bootstrap)
       VALUES ($1, $2, $3, $4::jsonb, $5)
       RETURNING ${COLUMNS}`,
      [key.name, key.keyPrefix, key.keyHash, JSON.stringify(key.permissions), key.bootstrap],
    );
    return toRecord(rows[0]);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.sql.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map(toRecord);
  }

  async findById(id: string): Promise<ApiKeyRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
  }

  async findBootstrap(): Promise<ApiKeyRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM api_keys WHERE bootstrap ORDER BY created_at, id LIMIT 1`);
  }

  async setLockedUnlessBootstrap(id: string, locked: boolean): Promise<ApiKeyRecord | undefined> {
    // The bootstrap check sits in the WHERE clause so it cannot race with the update.
    return this.one(`UPDATE api_keys SET locked = $2 WHERE id = $1 AND NOT bootstrap RETURNING ${COLUMNS}`, [id, locked]);
  }

  async deleteUnlessBootstrap(id: string): Promise<ApiKeyRecord | undefined> {
    return this.one(`DELETE FROM api_keys WHERE id = $1 AND NOT bootstrap RETURNING ${COLUMNS}`, [id]);
  }

  async resetBootstrap(id: string, keyHash: string, keyPrefix: string): Promise<ApiKeyRecord> {
    const row = await this.one(
      `UPDATE api_keys
       SET key_hash = $2, key_prefix = $3, permissions = $4::jsonb, locked = false
       WHERE id = $1
       RETURNING ${COLUMNS}`,
      [id, keyHash, keyPrefix, JSON.stringify(['admin'])],
    );
    if (!row) throw new Error(`Bootstrap API key ${id} vanished while being reset`);
    return row;
  }

  async touchLastUsed(id: string): Promise<void> {
    await this.sql.query(
      `UPDATE api_keys SET last_used_at = now()
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  private async one(sql: string, params: unknown[] = []): Promise<ApiKeyRecord | undefined> {
    const rows = await this.sql.query<ApiKeyRow>(sql, params);
    return rows.length > 0 ? toRecord(rows[0]) : undefined;
  }
}

/** All SQL on `api_keys`: the only code that touches the table. Runs unchanged on PostgreSQL and PGlite. */
@Injectable()
export class ApiKeyRepository extends ApiKeySql implements ApiKeyStore {
  constructor(@Inject(DATABASE) private readonly db: Database) {
    super(db);
  }

  async withBootstrapLock<T>(work: (tx: ApiKeyQueries) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      // Two processes booting at once must not both create a bootstrap key; the migration has no
      // partial unique index on `bootstrap`, so an advisory lock serialises the check-then-insert.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('api_keys.bootstrap'))`);
      return work(new ApiKeySql(tx));
    });
  }
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHash: row.key_hash,
    permissions: toPermissions(row.permissions),
    locked: row.locked,
    bootstrap: row.bootstrap,
    createdAt: toDate(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : toDate(row.last_used_at),
  };
}

// Drivers differ in whether jsonb and timestamptz arrive parsed; accept both shapes.
function toPermissions(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
