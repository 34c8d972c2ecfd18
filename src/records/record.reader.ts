import { AppException } from '../common/app.exception';
import type { SqlExecutor } from '../database/database';
import type { RecordReader } from '../formulas/formula.evaluator';
import type { MetadataSnapshot } from '../metadata/metadata.registry';
import { compileListQuery } from './record-query.compiler';
import { RECORD_COLUMNS, type RecordRow } from './record.repository';
import { sqlLiteral } from './sql';
import { toApiRecord } from './record.view';

/** Most child rows a formula may read through $children; rollups over more use $countRelated/$sumRelated (SQL). */
export const MAX_CHILDREN = 1000;

const OPS: Record<string, string> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  gte: 'gte',
  lt: 'lt',
  lte: 'lte',
  in: 'in',
  nin: 'nin',
  contains: 'contains',
  startsWith: 'startsWith',
  empty: 'empty',
};

/**
 * Reads other records for formulas, inside the saving transaction, caching each
 * read for the duration of one save. Related records appear as the API shows them.
 */
export class SqlRecordReader implements RecordReader {
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    private readonly executor: SqlExecutor,
    private readonly snapshot: MetadataSnapshot,
  ) {}

  get(module: string, id: string): Promise<Record<string, unknown> | undefined> {
    return this.once(`get:${module}:${id}`, async () => {
      const rows = await this.executor.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1::uuid AND module = $2`, [
        id,
        module,
      ]);
      return rows[0] ? toApiRecord(rows[0]) : undefined;
    });
  }

  children(module: string, relation: string, id: string): Promise<Record<string, unknown>[]> {
    return this.once(`children:${module}:${relation}:${id}`, async () => {
      const rows = await this.executor.query<RecordRow>(
        `SELECT ${RECORD_COLUMNS} FROM records WHERE module = ${sqlLiteral(module)} AND data @> jsonb_build_object(${sqlLiteral(relation)}, $1::text) AND archived_at IS NULL ORDER BY created_at, id LIMIT ${MAX_CHILDREN + 1}`,
        [id],
      );
      if (rows.length > MAX_CHILDREN) {
        throw new AppException(
          'validation',
          'too_many_children',
          `$children('${module}', '${relation}') reads more than ${MAX_CHILDREN} records; use $countRelated or $sumRelated.`,
        );
      }
      return rows.map(toApiRecord);
    });
  }

  count(module: string, relation: string, id: string): Promise<number> {
    return this.once(`count:${module}:${relation}:${id}`, async () => {
      const rows = await this.executor.query<{ n: string }>(
        `SELECT count(*) AS n FROM records WHERE module = ${sqlLiteral(module)} AND data @> jsonb_build_object(${sqlLiteral(relation)}, $1::text) AND archived_at IS NULL`,
        [id],
      );
      return Number(rows[0]?.n ?? 0);
    });
  }

  sum(module: string, relation: string, field: string, id: string): Promise<number> {
    return this.once(`sum:${module}:${relation}:${field}:${id}`, async () => {
      const rows = await this.executor.query<{ total: string | null }>(
        `SELECT sum((data->>${sqlLiteral(field)})::numeric) AS total FROM records WHERE module = ${sqlLiteral(module)} AND data @> jsonb_build_object(${sqlLiteral(relation)}, $1::text) AND archived_at IS NULL`,
        [id],
      );
      return Number(rows[0]?.total ?? 0);
    });
  }

  /** The first record (oldest) matching a condition made of field comparisons joined by `all`. */
  lookup(module: string, condition: unknown): Promise<Record<string, unknown> | undefined> {
    return this.once(`lookup:${module}:${JSON.stringify(condition)}`, async () => {
      const compiled = this.snapshot.module(module);
      const query = compileListQuery(compiled, [...conditionToFilters(condition), ['limit', '1'], ['sort', 'createdAt']], RECORD_COLUMNS);
      const rows = await this.executor.query<RecordRow>(query.sql, query.params);
      return rows[0] ? toApiRecord(rows[0]) : undefined;
    });
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let result = this.cache.get(key) as Promise<T> | undefined;
    if (!result) {
      result = read();
      this.cache.set(key, result);
    }
    return result;
  }
}

/**
 * A condition made of field comparisons (optionally inside `all`) as list filters,
 * so $lookup and related lists run as one indexed query. No condition, no filters.
 */
export function conditionToFilters(condition: unknown): Array<[string, string]> {
  if (condition === undefined || condition === null) return [];
  const parts = (condition as { all?: unknown[] })?.all ?? [condition];
  return parts.map((part) => {
    const { field, op, value } = (part ?? {}) as { field?: unknown; op?: unknown; value?: unknown };
    if (typeof field !== 'string' || typeof op !== 'string' || !OPS[op]) {
      throw new AppException(
        'validation',
        'unsupported_condition',
        'Only {field, op, value} comparisons, optionally inside {"all": [...]}, can select records here.',
      );
    }
    const text = Array.isArray(value) ? value.join(',') : String(value);
    return [`filter[${field}][${op}]`, text] as [string, string];
  });
}
