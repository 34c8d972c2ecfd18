import type { FieldError } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import type { CompiledModule } from '../metadata/compiled-module';
import { applyFormulas, FormulaException, type RecordReader } from '../formulas/formula.evaluator';
import { evaluateFieldStates } from '../rules/rule.engine';
import type { FieldState } from '../rules/rule.types';
import { normalize, toFieldErrors, type RecordData } from './record-input';

export interface WriteResult {
  /** The record as it would be stored: defaults, formulas and rules applied. */
  data: RecordData;
  /** Each field's state for `data` (visible, required, read-only, options). */
  states: Map<string, FieldState>;
  errors: FieldError[];
}

export interface WriteInput {
  module: CompiledModule;
  /** The client's values: the whole record on create, the changed fields on update. */
  input: RecordData;
  /** The stored record's data on update; null on create. */
  current: RecordData | null;
  id?: string;
  ctx: RequestContext;
  reader: RecordReader;
  now?: Date;
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/**
 * The one path every write takes — API create and update, the card's draft
 * evaluation, and later tools, workflows and import: type validation against the
 * module's compiled schema, defaults, formulas in dependency order, then the
 * dynamic-field rules (required when visible, read-only, allowed options, values
 * of hidden fields cleared where a rule says so).
 */
export async function prepareWrite({ module, input: given, current, id, ctx, reader, now = new Date() }: WriteInput): Promise<WriteResult> {
  // Formulas write into line rows: work on a copy, so the caller's body stays as it was sent.
  const input = structuredClone(given);
  const user = { id: ctx.actorId, name: ctx.actorName };
  const formulaContext = { id, old: current, now, user, reader };
  if (!module.validateInput(input)) {
    // Report missing required fields alongside the type errors, so one round trip shows every problem.
    const merged: RecordData = { ...(current ?? {}), ...(input as RecordData) };
    const states = await evaluateFieldStates(module.definition, module.rules, { record: merged, old: current, now, user });
    const errors = toFieldErrors(module, module.validateInput.errors);
    const named = new Set(errors.map((e) => e.field));
    errors.push(...checkStates(merged, states).filter((e) => e.code === 'required' && !named.has(e.field)));
    return { data: current ? { ...current } : {}, states, errors };
  }
  const errors: FieldError[] = [];
  if (current && Object.keys(input).length > 0) {
    // Read-only is judged on the stored record: the state the user was looking at.
    const before = await evaluateFieldStates(module.definition, module.rules, { record: current, old: null, now, user });
    for (const field of Object.keys(input)) {
      const state = before.get(field);
      if (state?.readOnly && JSON.stringify(input[field] ?? null) !== JSON.stringify(current[field] ?? null)) {
        errors.push({
          field,
          code: 'read_only',
          message: `"${field}" is read-only (rule ${state.because.readOnly}) and cannot be changed`,
        });
      }
    }
  }

  let data: RecordData = current ? { ...current, ...input } : { ...input };
  if (!current) for (const [field, value] of module.defaults) if (data[field] === undefined) data[field] = structuredClone(value);
  data = normalize(module, data);
  try {
    data = await applyFormulas(module.definition, module.formulas, data, formulaContext, !current);
    const states = await evaluateFieldStates(module.definition, module.rules, { record: data, old: current, now, user });
    let cleared = false;
    for (const [field, state] of states) {
      if (state.clearOnSave && data[field] !== undefined) {
        delete data[field];
        cleared = true;
      }
    }
    // A cleared field may feed a formula.
    if (cleared) data = await applyFormulas(module.definition, module.formulas, data, formulaContext, false);
    errors.push(...checkStates(data, states));
    return { data, states, errors };
  } catch (error) {
    if (!(error instanceof FormulaException)) throw error;
    const states = await evaluateFieldStates(module.definition, module.rules, { record: data, old: current, now, user });
    return { data, states, errors: [...errors, ...error.errors] };
  }
}

function checkStates(data: RecordData, states: Map<string, FieldState>): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, state] of states) {
    const value = data[field];
    if (state.required && isEmpty(value)) {
      const why = state.because.required === 'field definition' ? '' : ` (rule ${state.because.required})`;
      errors.push({ field, code: 'required', message: `"${field}" is required${why}` });
    }
    if (state.options && !isEmpty(value)) {
      const values = Array.isArray(value) ? value : [value];
      const outside = values.filter((v) => !state.options!.includes(String(v)));
      if (outside.length > 0) {
        errors.push({
          field,
          code: 'option_not_allowed',
          message: `"${field}" may only be ${state.options.map((o) => JSON.stringify(o)).join(', ')} here (rule ${state.because.options}), not ${outside.map((o) => JSON.stringify(o)).join(', ')}`,
        });
      }
    }
  }
  return errors;
}
