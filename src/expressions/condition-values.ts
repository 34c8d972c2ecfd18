import type { FieldDefinition } from '../metadata/metadata.types';
import { NUMERIC_TYPES, TEXT_TYPES } from './condition.types';

/** How a field's values compare: decides what "equal" and "greater" mean for it. */
export type ValueKind = 'number' | 'date' | 'datetime' | 'text' | 'boolean' | 'multi' | 'ref' | 'json';

export function valueKind(definition: FieldDefinition | undefined): ValueKind {
  const type = definition?.type;
  if (!type) return 'json';
  if (NUMERIC_TYPES.has(type)) return 'number';
  if (TEXT_TYPES.has(type) || type === 'picklist') return 'text';
  if (type === 'date' || type === 'datetime' || type === 'boolean') return type;
  if (type === 'multipicklist') return 'multi';
  if (type === 'relation' || type === 'user') return 'ref';
  return 'json'; // lines
}

/** Missing, null, empty string and empty list all count as "no value". */
export function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** A comparable primitive: equal values give `===` results, ordered kinds compare with `<`. */
export type Comparable = string | number | boolean;

const DATE = /^\d{4}-\d{2}-\d{2}/;
const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * The value as a {@link Comparable} of its kind, or undefined when it is empty or not readable as that
 * kind (a word in a number field). Dates compare as `YYYY-MM-DD` text, datetimes as epoch milliseconds,
 * a multipicklist as its sorted set, relations and users by id.
 */
export function comparable(kind: ValueKind, value: unknown): Comparable | undefined {
  if (isEmpty(value)) return undefined;
  switch (kind) {
    case 'number':
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      // decimals may arrive as strings to keep their precision
      return typeof value === 'string' && NUMBER.test(value) ? Number(value) : undefined;
    case 'date':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString().slice(0, 10);
      return typeof value === 'string' && DATE.test(value) ? value.slice(0, 10) : undefined;
    case 'datetime': {
      const millis = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(millis) ? undefined : millis;
    }
    case 'text':
      return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'multi':
      return setKey(Array.isArray(value) ? value : [value]);
    case 'ref':
      if (typeof value === 'string') return value;
      return typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : undefined;
    default:
      return typeof value === 'object' ? canonicalJson(value) : (value as Comparable);
  }
}

/** A multipicklist selection as a key that ignores order and repeats. */
export function setKey(values: readonly unknown[]): string {
  return JSON.stringify([...new Set(values.map(String))].sort());
}

/** Whether a field holds the same value before and after a save; empties are all alike. */
export function sameValue(kind: ValueKind, before: unknown, after: unknown): boolean {
  const emptyBefore = isEmpty(before);
  const emptyAfter = isEmpty(after);
  if (emptyBefore || emptyAfter) return emptyBefore && emptyAfter;
  const a = comparable(kind, before);
  const b = comparable(kind, after);
  // Values that do not read as the field's kind (bad data) still compare as JSON, key order aside.
  if (a === undefined || b === undefined) return canonicalJson(before) === canonicalJson(after);
  return a === b;
}

/** JSON with object keys sorted, so deep-equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** A record's own field value; inherited names such as `constructor` are not fields. */
export function fieldValue(record: Record<string, unknown> | null | undefined, field: string): unknown {
  return record && Object.prototype.hasOwnProperty.call(record, field) ? record[field] : undefined;
}

/** jsonata's truthiness ($boolean): empty strings, 0, empty lists, objects without keys and functions are false. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some((item) => isTruthy(item));
  switch (typeof value) {
    case 'boolean':
      return value;
    case 'number':
      return value !== 0;
    case 'string':
      return value.length > 0;
    case 'object':
      // jsonata lambdas and native function wrappers are objects, but functions are false.
      if ('_jsonata_lambda' in value || '_jsonata_function' in value) return false;
      return Object.keys(value).length > 0;
    default:
      return false;
  }
}
