import { createHash } from 'node:crypto';
import type { FieldDefinition, FieldType } from '../metadata/metadata.types';

/**
 * SQL fragments derived from metadata. Module and field names come only from
 * validated metadata (lower snake case), never from a request: a request's keys
 * are first resolved against the module's fields, and its values always travel
 * as bind parameters. {@link sqlLiteral} asserts the name shape anyway.
 */
const SAFE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export function sqlLiteral(name: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`Refusing to embed "${name}" in SQL: not a metadata name`);
  return `'${name}'`;
}

const NUMERIC: ReadonlySet<FieldType> = new Set(['integer', 'decimal', 'currency', 'percent']);

export type SqlValueType = 'text' | 'numeric' | 'boolean' | 'timestamptz' | 'uuid';

export function sqlTypeOf(field: FieldDefinition): SqlValueType {
  if (NUMERIC.has(field.type)) return 'numeric';
  if (field.type === 'boolean') return 'boolean';
  return 'text';
}

/** The expression reading a field's scalar value; indexes use exactly the same text, so the planner matches them. */
export function fieldExpression(name: string, field: FieldDefinition): string {
  const text = `(data->>${sqlLiteral(name)})`;
  switch (sqlTypeOf(field)) {
    case 'numeric':
      return `(${text}::numeric)`;
    case 'boolean':
      return `(${text}::boolean)`;
    default:
      return text;
  }
}

/** System columns that lists may sort and filter on, by API name. */
export const SYSTEM_COLUMNS: Readonly<Record<string, { column: string; type: SqlValueType }>> = {
  createdAt: { column: 'created_at', type: 'timestamptz' },
  updatedAt: { column: 'updated_at', type: 'timestamptz' },
  number: { column: 'number', type: 'text' },
  id: { column: 'id', type: 'uuid' },
};

/** Accepted spellings of the system sort keys (DESIGN.md uses snake case). */
export const SYSTEM_ALIASES: Readonly<Record<string, string>> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
};

export function indexName(module: string, field: string): string {
  const name = `rx_${module}__${field}`;
  // PostgreSQL cuts identifiers at 63 bytes; a hash keeps long pairs distinct.
  if (name.length <= 63) return name;
  return `${name.slice(0, 50)}_${createHash('sha1').update(name).digest('hex').slice(0, 12)}`;
}
