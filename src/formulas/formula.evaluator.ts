import type { FieldError } from '../common/app.exception';
import { clockBindings, ExpressionEvaluationError, ExpressionLimitError } from '../expressions/jsonata.runner';
import type { FieldDefinition, ModuleDefinition } from '../metadata/metadata.types';
import type { CompiledFormula, CompiledFormulas } from './formula.compiler';

type Data = Record<string, unknown>;

/** Reads other records for formulas; one instance per save caches what it read. */
export interface RecordReader {
  get(module: string, id: string): Promise<Data | undefined>;
  children(module: string, relation: string, id: string): Promise<Data[]>;
  lookup(module: string, condition: unknown): Promise<Data | undefined>;
  count(module: string, relation: string, id: string): Promise<number>;
  sum(module: string, relation: string, field: string, id: string): Promise<number>;
}

export interface FormulaContext {
  /** The record's id (absent for a draft of a new record: it has no children yet). */
  id?: string;
  old: Data | null;
  now: Date;
  user: { id: string; name: string };
  reader: RecordReader;
}

export class FormulaException extends Error {
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/**
 * Computes a record's formulas in place: row formulas of lines first, then record
 * formulas in dependency order, each result coerced to its field's type. On
 * create, `defaultFormula`s fill fields left empty before anything else.
 */
export async function applyFormulas(
  module: ModuleDefinition,
  formulas: CompiledFormulas,
  data: Data,
  context: FormulaContext,
  creating: boolean,
): Promise<Data> {
  if (formulas.record.length === 0 && formulas.lines.size === 0 && (!creating || formulas.defaults.length === 0)) return data;
  const bindings = recordBindings(module, data, context);
  if (creating) {
    for (const formula of formulas.defaults) {
      if (data[formula.field] === undefined || data[formula.field] === null) {
        setValue(data, formula.field, await run(formula, data, bindings, module.fields[formula.field]));
      }
    }
  }
  for (const [linesField, rowFormulas] of formulas.lines) {
    const rows = data[linesField];
    if (!Array.isArray(rows)) continue;
    const rowDefinitions = module.fields[linesField].fields ?? {};
    for (const [i, row] of (rows as Data[]).entries()) {
      const rowBindings = { ...bindings, line: row };
      for (const formula of rowFormulas) {
        setValue(
          row,
          formula.field,
          await run(formula, row, rowBindings, rowDefinitions[formula.field], `${linesField}[${i}].${formula.field}`),
        );
      }
    }
  }
  for (const formula of formulas.record) {
    setValue(data, formula.field, await run(formula, data, bindings, module.fields[formula.field]));
  }
  return data;
}

/** The bindings every expression over a record gets: $record, $old, $now(), $user and the record functions. */
export function recordBindings(module: ModuleDefinition, data: Data, context: FormulaContext): Record<string, unknown> {
  const { reader, id } = context;
  return {
    // $now() and $millis() are jsonata's own functions, fixed to the moment of the save.
    ...clockBindings(context.now),
    record: data,
    old: context.old,
    user: context.user,
    related: async (relation: string) => {
      const target = module.fields[relation]?.module;
      const value = data[relation];
      return target && typeof value === 'string' ? reader.get(target, value) : undefined;
    },
    children: (target: string, relation: string) => (id ? reader.children(target, relation, id) : Promise.resolve([])),
    countRelated: (target: string, relation: string) => (id ? reader.count(target, relation, id) : Promise.resolve(0)),
    sumRelated: (target: string, relation: string, field: string) => (id ? reader.sum(target, relation, field, id) : Promise.resolve(0)),
    // $lookup(module, condition) finds a record; $lookup(object, key) keeps jsonata's own meaning.
    lookup: (target: unknown, condition: unknown) =>
      typeof target === 'string' ? reader.lookup(target, condition) : lookupKey(target, condition),
  };
}

async function run(
  formula: CompiledFormula,
  input: Data,
  bindings: Record<string, unknown>,
  field: FieldDefinition,
  at = formula.field,
): Promise<unknown> {
  let value: unknown;
  try {
    value = await formula.expression.evaluate(input, bindings);
  } catch (error) {
    if (error instanceof ExpressionLimitError || error instanceof ExpressionEvaluationError) {
      throw new FormulaException([{ field: at, code: 'formula_failed', message: `the formula of "${at}" failed: ${error.message}` }]);
    }
    throw error;
  }
  return coerce(value, field, at);
}

function setValue(target: Data, field: string, value: unknown): void {
  if (value === undefined || value === null) delete target[field];
  else target[field] = value;
}

const NUMERIC = new Set(['integer', 'decimal', 'currency', 'percent']);

/** A formula's result as a value of its field's type; anything else is a clear error, never stored. */
function coerce(value: unknown, field: FieldDefinition, at: string): unknown {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0 && field.type !== 'multipicklist'))
    return undefined;
  const fail = (expected: string) => {
    throw new FormulaException([
      {
        field: at,
        code: 'formula_type',
        message: `the formula of "${at}" produced ${JSON.stringify(value).slice(0, 80)}, not ${expected}`,
      },
    ]);
  };
  if (NUMERIC.has(field.type)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return fail('a number');
    if (field.type === 'integer') return Math.round(value);
    // Money and percentages are kept to 2 decimals (half away from zero), so float noise never reaches records.
    if (field.type === 'currency' || field.type === 'percent') return (Math.sign(value) * Math.round(Math.abs(value) * 100 + 1e-9)) / 100;
    return Number(value.toPrecision(15));
  }
  if (field.type === 'boolean') return Boolean(value);
  if (field.type === 'multipicklist') return Array.isArray(value) ? value.map(String) : [String(value)];
  if (typeof value === 'object') return fail(`a ${field.type} value`);
  if (field.type === 'date' && typeof value === 'string') return value.slice(0, 10);
  return String(value);
}

/** jsonata's built-in $lookup(object, key): the key's value, or the values of every object in an array. */
function lookupKey(target: unknown, key: unknown): unknown {
  if (Array.isArray(target)) return target.map((item) => lookupKey(item, key)).filter((v) => v !== undefined);
  if (target !== null && typeof target === 'object' && typeof key === 'string' && Object.hasOwn(target, key)) return (target as Data)[key];
  return undefined;
}
