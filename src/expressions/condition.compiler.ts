import type { FieldDefinition, ModuleDefinition } from '../metadata/metadata.types';
import { comparable, fieldValue, isEmpty, isTruthy, sameValue, valueKind, type Comparable, type ValueKind } from './condition-values';
import type { Condition, ConditionScope, ConditionValue, FieldCondition } from './condition.types';
import { clockBindings, compileExpression, expressionReads } from './jsonata.runner';

export type {
  AllCondition,
  AnyCondition,
  Condition,
  ConditionOp,
  ConditionProblem,
  ConditionScope,
  ConditionValue,
  ExpressionCondition,
  FieldCondition,
  NotCondition,
} from './condition.types';
export { CONDITION_OPS } from './condition.types';
export { validateCondition } from './condition.validator';

/** A condition compiled once per metadata version, evaluated on every save. */
export interface CompiledCondition {
  /** The top-level fields it reads: those of field conditions and what its expressions read. */
  readonly reads: string[];
  /**
   * Whether the condition holds for the scope. Field conditions run synchronously (a few hundred
   * nanoseconds); only `expression` conditions go through jsonata, and they run after the field
   * conditions next to them, so `all`/`any` often decide without them.
   * @throws ExpressionEvaluationError or ExpressionLimitError from an `expression` condition
   */
  evaluate(scope: ConditionScope): Promise<boolean>;
}

type Test = (scope: ConditionScope) => boolean | Promise<boolean>;

interface Node {
  async: boolean;
  test: Test;
}

/**
 * Compiles a condition that passed {@link validateCondition} against `module`. An unvalidated
 * condition may still compile, but operators then apply to values as they come (no field type).
 */
export function compileCondition(condition: Condition, module: ModuleDefinition): CompiledCondition {
  const reads = new Set<string>();
  const { test } = compileNode(condition, module, reads);
  return {
    reads: [...reads],
    // async: a synchronous test's exceptions become rejections like an expression's
    evaluate: async (scope) => test(scope),
  };
}

function compileNode(condition: Condition, module: ModuleDefinition, reads: Set<string>): Node {
  if ('all' in condition)
    return combine(
      condition.all.map((child) => compileNode(child, module, reads)),
      true,
    );
  if ('any' in condition)
    return combine(
      condition.any.map((child) => compileNode(child, module, reads)),
      false,
    );
  if ('not' in condition) {
    const inner = compileNode(condition.not, module, reads);
    const test = inner.test;
    return inner.async ? { async: true, test: async (scope) => !(await test(scope)) } : { async: false, test: (scope) => !test(scope) };
  }
  if ('expression' in condition) return expressionNode(condition.expression, reads);
  if ('field' in condition) {
    reads.add(condition.field);
    const definition = Object.prototype.hasOwnProperty.call(module.fields, condition.field) ? module.fields[condition.field] : undefined;
    return { async: false, test: fieldTest(condition, definition) };
  }
  throw new TypeError(`not a condition: ${JSON.stringify(condition)}`);
}

/** `all` (every = true) or `any` (every = false) of the children. */
function combine(children: Node[], every: boolean): Node {
  // Field tests are synchronous and cheap: run them first, so the jsonata ones are often skipped.
  const sync = children.filter((child) => !child.async).map((child) => child.test as (scope: ConditionScope) => boolean);
  const pending = children.filter((child) => child.async).map((child) => child.test);
  const syncTest = (scope: ConditionScope): boolean => {
    for (const test of sync) if (test(scope) !== every) return !every;
    return every;
  };
  if (pending.length === 0) return { async: false, test: syncTest };
  return {
    async: true,
    test: async (scope) => {
      if (syncTest(scope) !== every) return !every;
      for (const test of pending) if ((await test(scope)) !== every) return !every;
      return every;
    },
  };
}

function expressionNode(source: string, reads: Set<string>): Node {
  const expression = compileExpression(source);
  for (const field of expressionReads(source)) reads.add(field);
  return {
    async: true,
    test: async (scope) =>
      isTruthy(
        await expression.evaluate(scope.record, {
          record: scope.record,
          old: scope.old ?? undefined,
          user: scope.user,
          ...clockBindings(scope.now),
        }),
      ),
  };
}

type FieldTest = (scope: ConditionScope) => boolean;

function fieldTest(condition: FieldCondition, definition: FieldDefinition | undefined): FieldTest {
  const { field, op, value } = condition;
  const kind = valueKind(definition);
  const current = (scope: ConditionScope) => fieldValue(scope.record, field);
  switch (op) {
    case 'empty':
      return (scope) => isEmpty(current(scope));
    case 'notEmpty':
      return (scope) => !isEmpty(current(scope));
    case 'eq':
      return equalsTest(kind, field, value);
    case 'ne':
      return negate(equalsTest(kind, field, value));
    case 'in':
      return inTest(kind, field, value);
    case 'nin':
      return negate(inTest(kind, field, value));
    case 'gt':
      return orderTest(kind, field, value, (a, b) => a > b);
    case 'gte':
      return orderTest(kind, field, value, (a, b) => a >= b);
    case 'lt':
      return orderTest(kind, field, value, (a, b) => a < b);
    case 'lte':
      return orderTest(kind, field, value, (a, b) => a <= b);
    case 'contains':
    case 'startsWith':
      return textTest(kind, field, op, value);
    case 'changed':
      return changedTest(kind, field);
    case 'changedTo': {
      const changed = changedTest(kind, field);
      const equals = equalsTest(kind, field, value);
      return (scope) => changed(scope) && equals(scope);
    }
    default:
      throw new TypeError(`unknown condition operator ${JSON.stringify(op)}`);
  }
}

function negate(test: FieldTest): FieldTest {
  return (scope) => !test(scope);
}

// Expected values are converted once here; each evaluation only converts the record's value.
function equalsTest(kind: ValueKind, field: string, value: ConditionValue | undefined): FieldTest {
  const expected = comparable(kind, value);
  if (expected === undefined) return () => false;
  return (scope) => comparable(kind, fieldValue(scope.record, field)) === expected;
}

function inTest(kind: ValueKind, field: string, value: ConditionValue | undefined): FieldTest {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  if (kind === 'multi') {
    // A multipicklist is "in" a list when it has at least one of the listed options.
    const options = new Set(list.map(String));
    return (scope) => {
      const selected = fieldValue(scope.record, field);
      return Array.isArray(selected) ? selected.some((option) => options.has(String(option))) : options.has(String(selected));
    };
  }
  const keys = new Set(list.map((item) => comparable(kind, item)).filter((key) => key !== undefined));
  return (scope) => {
    const key = comparable(kind, fieldValue(scope.record, field));
    return key !== undefined && keys.has(key);
  };
}

function orderTest(
  kind: ValueKind,
  field: string,
  value: ConditionValue | undefined,
  holds: (a: Comparable, b: Comparable) => boolean,
): FieldTest {
  const expected = comparable(kind, value);
  if (expected === undefined || typeof expected === 'boolean') return () => false;
  return (scope) => {
    const actual = comparable(kind, fieldValue(scope.record, field));
    return actual !== undefined && typeof actual === typeof expected && holds(actual, expected);
  };
}

function textTest(kind: ValueKind, field: string, op: 'contains' | 'startsWith', value: ConditionValue | undefined): FieldTest {
  if (kind === 'multi') {
    const option = String(value);
    return (scope) => {
      const selected = fieldValue(scope.record, field);
      return Array.isArray(selected) ? selected.includes(option) : selected === option;
    };
  }
  const needle = String(value ?? '').toLowerCase();
  return (scope) => {
    const text = comparable('text', fieldValue(scope.record, field));
    if (typeof text !== 'string') return false;
    return op === 'contains' ? text.toLowerCase().includes(needle) : text.toLowerCase().startsWith(needle);
  };
}

/** On create (no old record) a field "changed" when it has a value; on update when it differs. */
function changedTest(kind: ValueKind, field: string): FieldTest {
  return (scope) => {
    const now = fieldValue(scope.record, field);
    if (!scope.old) return !isEmpty(now);
    return !sameValue(kind, fieldValue(scope.old, field), now);
  };
}
