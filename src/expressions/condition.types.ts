import { FIELD_TYPES, type FieldType } from '../metadata/metadata.types';

/**
 * The condition language (`metadata/schema/condition.schema.json`), one JSON format for dynamic-field
 * rules, workflow triggers, tool visibility and list filters.
 */
export const CONDITION_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'nin',
  'contains',
  'startsWith',
  'empty',
  'notEmpty',
  'changed',
  'changedTo',
] as const;

export type ConditionOp = (typeof CONDITION_OPS)[number];

/** A literal a field is compared with; lists for in/nin and for whole-selection tests on multipicklists. */
export type ConditionValue = string | number | boolean | Array<string | number | boolean>;

/** Holds when every child holds (an empty list is rejected by validation). */
export interface AllCondition {
  all: Condition[];
}

/** Holds when at least one child holds. */
export interface AnyCondition {
  any: Condition[];
}

/** Holds when the child does not. */
export interface NotCondition {
  not: Condition;
}

/** Tests one top-level field of the record with an operator; `value` is absent for empty/notEmpty/changed. */
export interface FieldCondition {
  field: string;
  op: ConditionOp;
  value?: ConditionValue;
}

/** Escape hatch: a jsonata expression over the record, with `$record`, `$old`, `$now()` and `$user` bound. */
export interface ExpressionCondition {
  expression: string;
}

export type Condition = AllCondition | AnyCondition | NotCondition | FieldCondition | ExpressionCondition;

/** What a condition is evaluated against. */
export interface ConditionScope {
  /** The record as it will be saved (field values at top level). */
  record: Record<string, unknown>;
  /** The record before the save; null or absent on create. */
  old?: Record<string, unknown> | null;
  /** The instant of the save, so every condition and formula of it sees the same `$now()`. */
  now: Date;
  user?: { id: string; name: string };
}

/** A condition as found in metadata, before or after validation: pointer and message per problem. */
export interface ConditionProblem {
  pointer: string;
  message: string;
}

// ---- Which operators fit which field types ----------------------------------------------------------

export const NUMERIC_TYPES: ReadonlySet<FieldType> = new Set(['integer', 'decimal', 'currency', 'percent']);
export const TEXT_TYPES: ReadonlySet<FieldType> = new Set(['text', 'textarea', 'richtext', 'email', 'phone', 'url', 'autonumber']);

const EQUALITY: ConditionOp[] = ['eq', 'ne', 'in', 'nin', 'empty', 'notEmpty', 'changed', 'changedTo'];
const ORDER: ConditionOp[] = ['gt', 'gte', 'lt', 'lte'];

/** The operators each field type takes, in the order of {@link CONDITION_OPS}. */
export function opsForType(type: FieldType): readonly ConditionOp[] {
  return OPS_BY_TYPE.get(type) ?? OPS_BY_TYPE.get('boolean')!;
}

function opsOf(type: FieldType): Set<ConditionOp> {
  if (type === 'lines') return new Set(['empty', 'notEmpty', 'changed']);
  if (NUMERIC_TYPES.has(type) || type === 'date' || type === 'datetime') return new Set([...EQUALITY, ...ORDER]);
  if (TEXT_TYPES.has(type)) return new Set([...EQUALITY, ...ORDER, 'contains', 'startsWith']);
  if (type === 'multipicklist') return new Set([...EQUALITY, 'contains']);
  return new Set(EQUALITY); // boolean, picklist, relation, user
}

const OPS_BY_TYPE = new Map<FieldType, readonly ConditionOp[]>(
  FIELD_TYPES.map((type) => [type, CONDITION_OPS.filter((op) => opsOf(type).has(op))]),
);

/** Operators that take no value. */
export const VALUELESS_OPS: ReadonlySet<ConditionOp> = new Set(['empty', 'notEmpty', 'changed']);
