import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database, type SqlExecutor } from '../database/database';
import type { CompiledModule } from '../metadata/compiled-module';
import type { IncomingRelation } from '../metadata/metadata.registry';
import type { RecordData } from './record-input';
import { sqlLiteral } from './sql';

export interface RecordRow {
  id: string;
  module: string;
  number: string | null;
  data: RecordData;
  owner_id: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
  version: number;
  [sortValue: `_s${number}`]: string | null;
}

export interface Actor {
  id: string;
  name: string;
  source: string;
}

export interface FieldChangeRow {
  id: string;
  field: string;
  old_value: unknown;
  new_value: unknown;
  actor_id: string;
  actor_name: string;
  source: string;
  changed_at: Date;
}

export const RECORD_COLUMNS = 'id, module, number, data, owner_id, created_by, created_at, updated_at, archived_at, version';

/** A sequence value formatted with prefix and zero padding (never truncated when it outgrows the padding). */
function formatted(sequence: string, prefixParam: string, paddingParam: string): string {
  const text = `${sequence}.last_value::text`;
  return `${prefixParam} || CASE WHEN length(${text}) >= ${paddingParam} THEN ${text} ELSE lpad(${text}, ${paddingParam}, '0') END`;
}

/**
 * All SQL for records, their numbers and their change log. Statements that
 * depend only on metadata are built once per compiled module and cached.
 */
@Injectable()
export class RecordRepository {
  private readonly insertStatements = new WeakMap<CompiledModule, string>();

  constructor(@Inject(DATABASE) readonly db: Database) {}

  /**
   * Inserts a record in one statement: the number sequence upsert (its row lock
   * orders concurrent creates), the record, and the change log rows for tracked
   * fields. A failed insert rolls the sequence back with it, so numbers stay gapless.
   */
  async insert(executor: SqlExecutor, module: CompiledModule, id: string, data: RecordData, actor: Actor): Promise<RecordRow> {
    const numbering = module.numbering;
    const params: unknown[] = [
      id,
      JSON.stringify(data),
      actor.id,
      actor.name,
      actor.source,
      module.trackedFields,
      numbering.prefix,
      numbering.padding,
    ];
    for (const auto of module.autonumberFields) params.push(auto.prefix, auto.padding);
    const rows = await executor.query<RecordRow>(this.insertStatement(module), params);
    return rows[0];
  }

  private insertStatement(module: CompiledModule): string {
    const cached = this.insertStatements.get(module);
    if (cached) return cached;
    const m = sqlLiteral(module.name);
    const sequences = [{ alias: 'seq', name: `'number'`, prefix: '$7::text', padding: '$8::int' }];
    module.autonumberFields.forEach((auto, i) =>
      sequences.push({ alias: `seq${i}`, name: sqlLiteral(auto.field), prefix: `$${9 + 2 * i}::text`, padding: `$${10 + 2 * i}::int` }),
    );
    const ctes = sequences.map(
      (s) => `${s.alias} AS (
        INSERT INTO number_sequences AS s (module, sequence, last_value) VALUES (${m}, ${s.name}, 1)
        ON CONFLICT (module, sequence) DO UPDATE SET last_value = s.last_value + 1
        RETURNING last_value)`,
    );
    const autoData = module.autonumberFields
      .map(
        (auto, i) =>
          ` || jsonb_build_object(${sqlLiteral(auto.field)}, ${formatted(`seq${i}`, sequences[i + 1].prefix, sequences[i + 1].padding)})`,
      )
      .join('');
    const sql = `WITH ${ctes.join(', ')},
      rec AS (
        INSERT INTO records (id, module, number, data, owner_id, created_by)
        SELECT $1::uuid, ${m}, ${formatted('seq', '$7::text', '$8::int')}, $2::jsonb${autoData}, $3, $3
          FROM ${sequences.map((s) => s.alias).join(', ')}
        RETURNING ${RECORD_COLUMNS}),
      log AS (
        INSERT INTO field_changes (record_id, module, field, old_value, new_value, actor_id, actor_name, source)
        SELECT rec.id, rec.module, c.key, NULL, c.value, $3, $4, $5
          FROM rec, jsonb_each(rec.data) AS c
         WHERE c.key = ANY($6::text[]))
      SELECT * FROM rec`;
    this.insertStatements.set(module, sql);
    return sql;
  }

  async find(executor: SqlExecutor, module: string, id: string, lock = false): Promise<RecordRow | undefined> {
    const rows = await executor.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1::uuid AND module = $2${lock ? ' FOR UPDATE' : ''}`,
      [id, module],
    );
    return rows[0];
  }

  /** Updates data and the change log in one statement; no row when the version moved on. */
  async update(
    executor: SqlExecutor,
    id: string,
    version: number,
    data: RecordData,
    changes: Array<{ field: string; old: unknown; new: unknown }>,
    actor: Actor,
  ): Promise<RecordRow | undefined> {
    const rows = await executor.query<RecordRow>(
      `WITH rec AS (
         UPDATE records SET data = $3::jsonb, version = version + 1, updated_at = clock_timestamp()
          WHERE id = $1::uuid AND version = $2
         RETURNING ${RECORD_COLUMNS}),
       log AS (
         INSERT INTO field_changes (record_id, module, field, old_value, new_value, actor_id, actor_name, source)
         SELECT rec.id, rec.module, c.field, c.old, c.new, $5, $6, $7
           FROM rec, jsonb_to_recordset($4::jsonb) AS c(field text, old jsonb, new jsonb))
       SELECT * FROM rec`,
      [id, version, JSON.stringify(data), JSON.stringify(changes), actor.id, actor.name, actor.source],
    );
    return rows[0];
  }

  async setArchived(executor: SqlExecutor, id: string, archived: boolean): Promise<RecordRow> {
    const rows = await executor.query<RecordRow>(
      `UPDATE records SET archived_at = ${archived ? 'clock_timestamp()' : 'NULL'}, version = version + 1, updated_at = clock_timestamp()
        WHERE id = $1::uuid RETURNING ${RECORD_COLUMNS}`,
      [id],
    );
    return rows[0];
  }

  async delete(executor: SqlExecutor, id: string): Promise<void> {
    await executor.query(`DELETE FROM records WHERE id = $1::uuid`, [id]);
  }

  /** Which of these ids exist, and in which module; locks them against deletion until the transaction ends. */
  async lockTargets(executor: SqlExecutor, ids: string[]): Promise<Map<string, string>> {
    const rows = await executor.query<{ id: string; module: string }>(
      `SELECT id::text AS id, module FROM records WHERE id = ANY($1::uuid[]) FOR KEY SHARE`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.module]));
  }

  /** Modules holding records that point at `id` through one of the given relations. */
  async referencingModules(executor: SqlExecutor, id: string, relations: readonly IncomingRelation[]): Promise<string[]> {
    if (relations.length === 0) return [];
    const checks = relations.map((r) => {
      const match = r.lines
        ? `data->${sqlLiteral(r.lines)} @> jsonb_build_array(jsonb_build_object(${sqlLiteral(r.field)}, $1::text))`
        : `data @> jsonb_build_object(${sqlLiteral(r.field)}, $1::text)`;
      return `(SELECT ${sqlLiteral(r.module)}::text AS module FROM records WHERE module = ${sqlLiteral(r.module)} AND ${match} LIMIT 1)`;
    });
    const rows = await executor.query<{ module: string }>(checks.join(' UNION '), [id]);
    return rows.map((r) => r.module);
  }

  list(sql: string, params: unknown[]): Promise<RecordRow[]> {
    return this.db.query<RecordRow>(sql, params);
  }

  history(recordId: string, beforeId: string | undefined, limit: number): Promise<FieldChangeRow[]> {
    return this.db.query<FieldChangeRow>(
      `SELECT id::text AS id, field, old_value, new_value, actor_id, actor_name, source, changed_at
         FROM field_changes WHERE record_id = $1::uuid AND ($2::bigint IS NULL OR id < $2::bigint)
        ORDER BY id DESC LIMIT $3`,
      [recordId, beforeId ?? null, limit + 1],
    );
  }
}
