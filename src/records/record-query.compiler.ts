import { AppException, type FieldError } from '../common/app.exception';
import { UUID } from '../common/ids';
import type { CompiledModule } from '../metadata/compiled-module';
import type { FieldDefinition } from '../metadata/metadata.types';
import { fieldExpression, sqlLiteral, sqlTypeOf, SYSTEM_ALIASES, SYSTEM_COLUMNS, type SqlValueType } from './sql';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
const FILTER_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'empty'] as const;
type FilterOp = (typeof FILTER_OPS)[number];
const LIST_PARAMS = new Set(['sort', 'limit', 'cursor', 'fields', 'q', 'archived']);
const MAX_IN_VALUES = 100;
const MAX_VALUE_LENGTH = 1000;
// PostgreSQL text cannot hold NUL; caught here, it is a clear 400 rather than a driver error.
const NUL_MESSAGE = (where: string) => `${where}: the value contains the NUL character (\\u0000), which no field can hold.`;

export interface ListQuery {
  limit: number;
  fields?: string[];
  /** Full statement text and its bind parameters. */
  sql: string;
  params: unknown[];
  /** Builds the cursor for the page that follows the given last row. */
  cursorAfter(row: { id: string; [sortValue: `_s${number}`]: string | null }): string;
}

interface SortKey {
  key: string;
  expression: string;
  type: SqlValueType;
  descending: boolean;
  nullable: boolean;
}

interface Cursor {
  /** sort signature, so a cursor is only used with the sort it was made for */
  s: string;
  /** the sort values of the last row, as text (null for empty) */
  v: Array<string | null>;
  id: string;
}

/**
 * Turns list parameters (`filter[field][op]`, `sort`, `cursor`, `limit`, `fields`,
 * `q`, `archived`) into one parameterised SELECT. Every key resolves against the
 * module's metadata; anything unknown is a 400 naming it. Pagination is keyset
 * (seek) based, so deep pages cost what the first page costs and inserts never
 * shift a page.
 */
export function compileListQuery(module: CompiledModule, query: Array<[string, string]>, selectColumns: string): ListQuery {
  const params: unknown[] = [];
  const bind = (value: unknown, type: SqlValueType | 'text[]' | 'numeric[]') => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
  const errors: FieldError[] = [];
  const where: string[] = [`module = ${sqlLiteral(module.name)}`];
  const single = new Map<string, string>();

  for (const [key, value] of query) {
    const filter = /^filter\[([^\]]*)\](?:\[([^\]]*)\])?$/.exec(key);
    if (filter) {
      const condition = compileFilter(module, filter[1], (filter[2] ?? 'eq') as FilterOp, value, bind, errors);
      if (condition) where.push(condition);
    } else if (LIST_PARAMS.has(key)) {
      if (single.has(key)) errors.push({ field: key, code: 'duplicate_parameter', message: `"${key}" is given more than once.` });
      single.set(key, value);
    } else {
      errors.push({
        field: key,
        code: 'unknown_parameter',
        message: `Unknown query parameter "${key}". Use filter[field][op], sort, limit, cursor, fields, q or archived.`,
      });
    }
  }

  const limit = parseLimit(single.get('limit'), errors);
  const archived = single.get('archived') ?? 'exclude';
  if (archived === 'exclude') where.push('archived_at IS NULL');
  else if (archived === 'only') where.push('archived_at IS NOT NULL');
  else if (archived !== 'include') {
    errors.push({ field: 'archived', code: 'invalid_value', message: 'archived must be exclude, include or only.' });
  }

  const q = single.get('q');
  if (q !== undefined && q !== '') {
    if (q.length > 200) errors.push({ field: 'q', code: 'too_long', message: 'q may be at most 200 characters.' });
    if (q.includes('\u0000')) errors.push({ field: 'q', code: 'invalid_character', message: NUL_MESSAGE('q') });
    const haystack = ['number', ...module.searchFields.map((f) => `data->>${sqlLiteral(f)}`)].join(', ');
    where.push(`strpos(lower(concat_ws(' ', ${haystack})), lower(${bind(q, 'text')})) > 0`);
  }

  const fields = parseFields(module, single.get('fields'), errors);
  const sort = parseSort(module, single.get('sort'), errors);
  const signature = sort.map((k) => `${k.descending ? '-' : ''}${k.key}`).join(',');
  const cursorText = single.get('cursor');
  if (cursorText !== undefined && errors.length === 0) {
    const cursor = decodeCursor(cursorText, signature, sort);
    where.push(seekCondition(sort, cursor, bind));
  }
  if (errors.length > 0) {
    throw new AppException('bad_request', 'invalid_query', errors.map((e) => e.message).join(' '), errors);
  }

  const lastDirection = sort[sort.length - 1].descending ? 'DESC' : 'ASC';
  const orderBy = [...sort.map((k) => `${k.expression} ${k.descending ? 'DESC' : 'ASC'}`), `id ${lastDirection}`].join(', ');
  const sortColumns = sort.map((k, i) => `(${k.expression})::text AS _s${i}`).join(', ');
  const sql = `SELECT ${selectColumns}, ${sortColumns} FROM records WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${limit + 1}`;
  return {
    limit,
    fields,
    sql,
    params,
    cursorAfter: (row) => encodeCursor({ s: signature, v: sort.map((_, i) => row[`_s${i}`] ?? null), id: String(row.id) }),
  };
}

function parseLimit(raw: string | undefined, errors: FieldError[]): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
    errors.push({ field: 'limit', code: 'invalid_value', message: `limit must be an integer from 1 to ${MAX_LIMIT}.` });
    return DEFAULT_LIMIT;
  }
  return Number(raw);
}

function parseFields(module: CompiledModule, raw: string | undefined, errors: FieldError[]): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const names = raw.split(',').map((f) => f.trim());
  for (const name of names) {
    if (!module.fields.has(name) && !SYSTEM_OUTPUT.has(name)) {
      errors.push({ field: 'fields', code: 'unknown_field', message: `fields: "${name}" is not a field of ${module.name}.` });
    }
  }
  return names;
}

export const SYSTEM_OUTPUT = new Set(['id', 'number', 'module', 'version', 'owner', 'createdBy', 'createdAt', 'updatedAt', 'archivedAt']);

function parseSort(module: CompiledModule, raw: string | undefined, errors: FieldError[]): SortKey[] {
  const keys: SortKey[] = [];
  const text = raw === undefined || raw === '' ? '-createdAt' : raw;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const descending = part.startsWith('-');
    const name = descending ? part.slice(1) : part;
    const key = SYSTEM_ALIASES[name] ?? name;
    if (seen.has(key)) {
      errors.push({ field: 'sort', code: 'duplicate_sort_key', message: `sort: "${name}" appears twice.` });
      continue;
    }
    seen.add(key);
    const system = SYSTEM_COLUMNS[key];
    const field = module.fields.get(key);
    if (system) {
      keys.push({ key, expression: system.column, type: system.type, descending, nullable: key === 'number' });
    } else if (field && isSortable(field)) {
      keys.push({ key, expression: fieldExpression(key, field), type: sqlTypeOf(field), descending, nullable: true });
    } else {
      errors.push({
        field: 'sort',
        code: 'unknown_sort_key',
        message: `sort: "${name}" is not a sortable field of ${module.name}; use a field name or createdAt, updatedAt, number, with "-" for descending.`,
      });
    }
  }
  if (keys.length === 0) keys.push({ key: 'createdAt', expression: 'created_at', type: 'timestamptz', descending: true, nullable: false });
  return keys;
}

function isSortable(field: FieldDefinition): boolean {
  return field.type !== 'lines' && field.type !== 'multipicklist';
}

type Bind = (value: unknown, type: SqlValueType | 'text[]' | 'numeric[]') => string;

function compileFilter(
  module: CompiledModule,
  name: string,
  op: FilterOp,
  raw: string,
  bind: Bind,
  errors: FieldError[],
): string | undefined {
  const key = SYSTEM_ALIASES[name] ?? name;
  const system = SYSTEM_COLUMNS[key];
  const field = module.fields.get(key);
  const where = `filter[${name}][${op}]`;
  if (!FILTER_OPS.includes(op)) {
    errors.push({
      field: where,
      code: 'unknown_operator',
      message: `${where}: unknown operator "${op}"; use one of ${FILTER_OPS.join(', ')}.`,
    });
    return undefined;
  }
  if (!system && (!field || field.type === 'lines')) {
    errors.push({ field: where, code: 'unknown_field', message: `${where}: "${name}" is not a filterable field of ${module.name}.` });
    return undefined;
  }
  if (raw.length > MAX_VALUE_LENGTH) {
    errors.push({ field: where, code: 'too_long', message: `${where}: the value is longer than ${MAX_VALUE_LENGTH} characters.` });
    return undefined;
  }
  if (raw.includes('\u0000')) {
    errors.push({ field: where, code: 'invalid_character', message: NUL_MESSAGE(where) });
    return undefined;
  }
  const type: SqlValueType = system ? system.type : sqlTypeOf(field!);
  const expression = system ? system.column : fieldExpression(key, field!);
  const fail = (message: string) => {
    errors.push({ field: where, code: 'invalid_filter_value', message: `${where}: ${message}` });
    return undefined;
  };

  if (op === 'empty') {
    if (raw !== 'true' && raw !== 'false') return fail('empty takes true or false.');
    const emptyCheck =
      field?.type === 'multipicklist'
        ? `COALESCE(jsonb_array_length(data->${sqlLiteral(key)}), 0) = 0`
        : `(${expression} IS NULL${type === 'text' ? ` OR ${expression} = ''` : ''})`;
    return raw === 'true' ? emptyCheck : `NOT ${emptyCheck}`;
  }
  if (field?.type === 'multipicklist') {
    // A multipicklist holds an array: eq/contains/in ask whether it holds the value(s).
    const values = op === 'in' || op === 'nin' ? raw.split(',') : [raw];
    const bad = values.find((v) => !field.options?.includes(v));
    if (bad !== undefined) return fail(`"${bad}" is not one of the options (${field.options?.join(', ')}).`);
    const holds = `(data->${sqlLiteral(key)}) ?| ${bind(values, 'text[]')}`;
    if (op === 'eq' || op === 'contains' || op === 'in') return holds;
    if (op === 'ne' || op === 'nin') return `NOT COALESCE(${holds}, false)`;
    return fail(`${op} does not apply to a multipicklist; use eq, ne, in, nin, contains or empty.`);
  }
  if ((op === 'contains' || op === 'startsWith') && type !== 'text') return fail(`${op} applies to text fields only.`);

  const parse = (value: string): unknown => parseValue(value, type, field);
  if (op === 'in' || op === 'nin') {
    const values = raw.split(',');
    if (values.length > MAX_IN_VALUES) return fail(`at most ${MAX_IN_VALUES} values.`);
    const parsed = values.map(parse);
    const bad = parsed.findIndex((v) => v instanceof Error);
    if (bad >= 0) return fail((parsed[bad] as Error).message);
    const list = bind(parsed, type === 'numeric' ? 'numeric[]' : 'text[]');
    const cast = type === 'numeric' ? expression : `(${expression})::text`;
    return op === 'in' ? `${cast} = ANY(${list})` : `NOT COALESCE(${cast} = ANY(${list}), false)`;
  }
  const value = parse(raw);
  if (value instanceof Error) return fail(value.message);
  switch (op) {
    case 'eq':
      return `${expression} = ${bind(value, type)}`;
    case 'ne':
      return `${expression} IS DISTINCT FROM ${bind(value, type)}`;
    case 'gt':
      return `${expression} > ${bind(value, type)}`;
    case 'gte':
      return `${expression} >= ${bind(value, type)}`;
    case 'lt':
      return `${expression} < ${bind(value, type)}`;
    case 'lte':
      return `${expression} <= ${bind(value, type)}`;
    case 'contains':
      return `strpos(lower(${expression}), lower(${bind(value, 'text')})) > 0`;
    case 'startsWith':
      return `starts_with(lower(${expression}), lower(${bind(value, 'text')}))`;
    default:
      return fail(`unsupported operator ${op}`);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar day as YYYY-MM-DD: "2024-02-30" would otherwise compare as text and quietly match nothing. */
function isCalendarDate(raw: string): boolean {
  const date = new Date(`${raw}T00:00:00Z`);
  return DATE.test(raw) && !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === raw;
}

/** An ISO 8601 date-time (or date) as UTC ISO text; `new Date` alone would take "5" as the year 2001. */
function isoDateTime(raw: string): string | Error {
  const date = new Date(raw);
  return Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(raw)
    ? new Error(`"${raw}" is not an ISO date-time.`)
    : date.toISOString();
}

/** Parses a filter value for its field; an Error says what is wrong with it. */
function parseValue(raw: string, type: SqlValueType, field: FieldDefinition | undefined): unknown {
  switch (type) {
    case 'numeric':
      return /^-?(\d{1,15})(\.\d{1,10})?$/.test(raw) ? raw : new Error(`"${raw}" is not a number.`);
    case 'boolean':
      return raw === 'true' || raw === 'false' ? raw === 'true' : new Error(`"${raw}" is not true or false.`);
    case 'timestamptz':
      return isoDateTime(raw);
    case 'uuid':
      // Lower case, as `id::text` reads, so `in` matches an upper-case id as `eq` does.
      return UUID.test(raw) ? raw.toLowerCase() : new Error(`"${raw}" is not a UUID.`);
    default:
      break;
  }
  if (!field) return raw;
  if (field.type === 'picklist' && !field.options?.includes(raw)) {
    return new Error(`"${raw}" is not one of the options (${field.options?.join(', ')}).`);
  }
  if (field.type === 'relation' && !UUID.test(raw)) return new Error(`"${raw}" is not a record id (UUID).`);
  if (field.type === 'date' && !isCalendarDate(raw)) return new Error(`"${raw}" is not a date (YYYY-MM-DD).`);
  // Stored datetimes are normalised to UTC ISO strings, so they compare correctly as text.
  if (field.type === 'datetime') return isoDateTime(raw);
  return raw;
}

/**
 * The WHERE condition selecting rows after the cursor in the sort order. NULLs sort
 * last ascending and first descending (PostgreSQL's default), so they are the
 * greatest value either way; NOT NULL keys sorted one way use a row comparison,
 * which an index on (created_at, id) answers directly.
 */
function seekCondition(sort: SortKey[], cursor: Cursor, bind: Bind): string {
  const descending = sort[sort.length - 1].descending;
  const idParam = bind(cursor.id, 'uuid');
  if (sort.every((k) => !k.nullable && k.descending === descending)) {
    const left = [...sort.map((k) => k.expression), 'id'].join(', ');
    const right = [...sort.map((k, i) => bind(cursor.v[i], k.type)), idParam].join(', ');
    return `(${left}) ${descending ? '<' : '>'} (${right})`;
  }
  let condition = `id ${descending ? '<' : '>'} ${idParam}`;
  for (let i = sort.length - 1; i >= 0; i--) {
    const k = sort[i];
    const v = cursor.v[i];
    let after: string;
    let equal: string;
    if (v === null) {
      after = k.descending ? `${k.expression} IS NOT NULL` : 'false';
      equal = `${k.expression} IS NULL`;
    } else {
      const param = bind(v, k.type);
      after = k.descending ? `${k.expression} < ${param}` : `(${k.expression} > ${param} OR ${k.expression} IS NULL)`;
      equal = `${k.expression} = ${param}`;
    }
    condition = `(${after} OR (${equal} AND ${condition}))`;
  }
  return condition;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** How each sort value type reads in a cursor (PostgreSQL's text output of that type). */
const CURSOR_VALUE: Record<SqlValueType, RegExp> = {
  text: /^[^\u0000]*$/,
  numeric: /^-?\d+(\.\d+)?$/,
  boolean: /^(true|false)$/,
  timestamptz: /^\d{4,}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2})?$/,
  uuid: UUID,
};

function decodeCursor(text: string, signature: string, sort: SortKey[]): Cursor {
  const invalid = (why: string) =>
    new AppException('bad_request', 'invalid_cursor', `The cursor is not valid: ${why}. Start again without a cursor.`, [
      { field: 'cursor', code: 'invalid_cursor', message: why },
    ]);
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw invalid('it could not be decoded');
  }
  if (!cursor || typeof cursor.s !== 'string' || !Array.isArray(cursor.v) || typeof cursor.id !== 'string' || !UUID.test(cursor.id)) {
    throw invalid('it is malformed');
  }
  if (cursor.s !== signature) throw invalid(`it was made for sort "${cursor.s}", not "${signature}"`);
  // Values are bound as parameters anyway; checking them here makes a tampered cursor a clear 400, not a database error.
  const wellFormed = (v: unknown, i: number) =>
    v === null ? sort[i].nullable : typeof v === 'string' && v.length <= MAX_VALUE_LENGTH && CURSOR_VALUE[sort[i].type].test(v);
  if (cursor.v.length !== sort.length || !cursor.v.every(wellFormed)) throw invalid('it is malformed');
  return cursor;
}
