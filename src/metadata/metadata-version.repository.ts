import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database, type SqlExecutor } from '../database/database';

import type { MetadataKind } from './metadata-set';

export type { MetadataKind };

export interface MetadataVersionRow {
  id: number;
  kind: MetadataKind;
  name: string;
  version: number;
  body: unknown;
  checksum: string;
  author: string;
  source: 'file' | 'api' | 'rollback';
  createdAt: Date;
  active: boolean;
}

const COLUMNS = `id::int AS id, kind, name, version, body, checksum, author, source, created_at AS "createdAt", active`;

/** All SQL for `metadata_versions`: every published body is kept; one version per (kind, name) is active. */
@Injectable()
export class MetadataVersionRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  listActive(kind: MetadataKind): Promise<MetadataVersionRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM metadata_versions WHERE kind = $1 AND active ORDER BY name`, [kind]);
  }

  listAllActive(): Promise<MetadataVersionRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM metadata_versions WHERE active ORDER BY kind, name`);
  }

  listVersions(kind: MetadataKind, name: string): Promise<MetadataVersionRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM metadata_versions WHERE kind = $1 AND name = $2 ORDER BY version DESC`, [kind, name]);
  }

  async find(kind: MetadataKind, name: string, version: number): Promise<MetadataVersionRow | undefined> {
    const rows = await this.db.query<MetadataVersionRow>(
      `SELECT ${COLUMNS} FROM metadata_versions WHERE kind = $1 AND name = $2 AND version = $3`,
      [kind, name, version],
    );
    return rows[0];
  }

  async hasChecksum(kind: MetadataKind, name: string, checksum: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM metadata_versions WHERE kind = $1 AND name = $2 AND checksum = $3 LIMIT 1`, [
      kind,
      name,
      checksum,
    ]);
    return rows.length > 0;
  }

  /** The newest active row id: a version number for the whole metadata set. */
  async currentSetVersion(): Promise<number> {
    const rows = await this.db.query<{ v: number | null }>(`SELECT max(id)::int AS v FROM metadata_versions WHERE active`);
    return rows[0]?.v ?? 0;
  }

  /**
   * Stores `body` as the next version of (kind, name) and makes it the active one,
   * in one transaction; a per-name advisory lock keeps concurrent publishers in line.
   */
  publish(
    kind: MetadataKind,
    name: string,
    body: unknown,
    checksum: string,
    author: string,
    source: MetadataVersionRow['source'],
  ): Promise<MetadataVersionRow> {
    return this.db.transaction(async (tx: SqlExecutor) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`metacrm:metadata:${kind}:${name}`]);
      await tx.query(`UPDATE metadata_versions SET active = false WHERE kind = $1 AND name = $2 AND active`, [kind, name]);
      const rows = await tx.query<MetadataVersionRow>(
        `INSERT INTO metadata_versions (kind, name, version, body, checksum, author, source, active)
         SELECT $1, $2, COALESCE(max(version), 0) + 1, $3::jsonb, $4, $5, $6, true
           FROM metadata_versions WHERE kind = $1 AND name = $2
         RETURNING ${COLUMNS}`,
        [kind, name, JSON.stringify(body), checksum, author, source],
      );
      return rows[0];
    });
  }
}
