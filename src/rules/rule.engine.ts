import { compileCondition, type CompiledCondition, type ConditionScope } from '../expressions/condition.compiler';
import type { ModuleDefinition } from '../metadata/metadata.types';
import type { FieldState, RuleDefinition } from './rule.types';

interface CompiledRule {
  definition: RuleDefinition;
  condition: CompiledCondition;
}

/** A module's rules compiled once per metadata version. */
export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
  /** Fields some rule shows: hidden unless one of those rules holds. */
  readonly shownBy: ReadonlyMap<string, readonly CompiledRule[]>;
}

export const NO_RULES: CompiledRules = { rules: [], shownBy: new Map() };

export function compileRules(definitions: readonly RuleDefinition[], module: ModuleDefinition): CompiledRules {
  const rules = definitions.map((definition) => ({ definition, condition: compileCondition(definition.when, module) }));
  const shownBy = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    for (const field of rule.definition.show ?? []) shownBy.set(field, [...(shownBy.get(field) ?? []), rule]);
  }
  return { rules, shownBy };
}

/**
 * The one decision of what each field is for a record state: visible, required,
 * read-only, which options it allows — used by the card, by every write (API,
 * tools, workflows, import) and by the card's draft evaluation alike.
 *
 * Precedence: a field listed in some rule's `show` is visible only while one of
 * those rules holds; `hide` wins over `show`; a hidden field is never required;
 * several option restrictions intersect. Formula fields are always read-only.
 */
export async function evaluateFieldStates(
  module: ModuleDefinition,
  rules: CompiledRules,
  scope: ConditionScope,
): Promise<Map<string, FieldState>> {
  const holds: boolean[] = [];
  for (const rule of rules.rules) holds.push(await rule.condition.evaluate(scope));

  const states = new Map<string, FieldState>();
  for (const [name, field] of Object.entries(module.fields)) {
    const state: FieldState = { visible: true, required: false, readOnly: false, clearOnSave: false, because: {} };
    if (field.required && field.type !== 'autonumber') {
      state.required = true;
      state.because.required = 'field definition';
    }
    if (field.formula || field.type === 'autonumber') {
      state.readOnly = true;
      state.because.readOnly = field.formula ? 'formula' : 'autonumber';
    }
    const showing = rules.shownBy.get(name);
    if (showing) {
      const holding = showing.find((rule) => holds[rules.rules.indexOf(rule)]);
      if (holding) state.because.shown = holding.definition.id;
      else hide(state, showing[0].definition);
    }
    states.set(name, state);
  }

  rules.rules.forEach((rule, i) => {
    if (!holds[i]) return;
    const { definition } = rule;
    for (const field of definition.hide ?? []) {
      const state = states.get(field);
      if (state) hide(state, definition);
    }
    for (const field of definition.require ?? []) {
      const state = states.get(field);
      if (state && !state.required) {
        state.required = true;
        state.because.required = definition.id;
      }
    }
    for (const field of definition.readOnly ?? []) {
      const state = states.get(field);
      if (state && !state.readOnly) {
        state.readOnly = true;
        state.because.readOnly = definition.id;
      }
    }
    for (const [field, allowed] of Object.entries(definition.options ?? {})) {
      const state = states.get(field);
      if (!state) continue;
      state.options = state.options ? state.options.filter((o) => allowed.includes(o)) : [...allowed];
      state.because.options = state.because.options ? `${state.because.options}, ${definition.id}` : definition.id;
    }
  });

  for (const state of states.values()) {
    if (!state.visible && state.required) {
      state.required = false;
      delete state.because.required;
    }
  }
  return states;
}

function hide(state: FieldState, rule: RuleDefinition): void {
  state.visible = false;
  state.because.hidden = rule.id;
  delete state.because.shown;
  if (rule.onHide === 'clear') state.clearOnSave = true;
}

/** The fields a set of rules reads, e.g. to know which edits should re-evaluate a card. */
export function ruleReads(rules: CompiledRules): string[] {
  return [...new Set(rules.rules.flatMap((rule) => rule.condition.reads))];
}
