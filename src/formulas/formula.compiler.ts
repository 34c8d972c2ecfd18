import jsonata from 'jsonata';
import { compileExpression, expressionReads, ExpressionSyntaxError, type CompiledExpression } from '../expressions/jsonata.runner';
import type { FieldDefinition, ModuleDefinition } from '../metadata/metadata.types';

/** A record another record's formula reads: through a relation of its own, or as children pointing at it. */
export interface FormulaDependency {
  kind: 'related' | 'children';
  /** The module whose records are read. */
  module: string;
  /** related: the relation field of the formula's own record; children: the relation field in `module` pointing back. */
  relation: string;
}

export interface CompiledFormula {
  field: string;
  /** Set for a field of the rows of this lines field: evaluated per row. */
  lines?: string;
  source: string;
  expression: CompiledExpression;
  /** Fields of the record (or of the row, for line formulas) the formula reads. */
  reads: string[];
  dependencies: FormulaDependency[];
}

export interface CompiledFormulas {
  /** Per lines field, its row formulas in evaluation order. */
  readonly lines: ReadonlyMap<string, readonly CompiledFormula[]>;
  /** Record formulas in dependency order. */
  readonly record: readonly CompiledFormula[];
  /** `defaultFormula`s, applied on create to fields left empty. */
  readonly defaults: readonly CompiledFormula[];
  /** Every cross-record read of this module's formulas. */
  readonly dependencies: readonly FormulaDependency[];
}

export const NO_FORMULAS: CompiledFormulas = { lines: new Map(), record: [], defaults: [], dependencies: [] };

const RECORD_FUNCTIONS = new Set(['related', 'children', 'lookup', 'countRelated', 'sumRelated']);

/**
 * Compiles a module's formulas once per metadata version: syntax errors with
 * position, calls of the record functions checked against the metadata (their
 * module and relation arguments must be literal so the engine knows what to keep
 * fresh), and an evaluation order in which every formula runs after the formulas
 * it reads; a cycle is rejected, naming it.
 */
export function compileFormulas(
  module: ModuleDefinition,
  modules: ReadonlyMap<string, ModuleDefinition>,
): { formulas: CompiledFormulas; problems: Array<{ pointer: string; message: string }> } {
  const problems: Array<{ pointer: string; message: string }> = [];
  const compile = (
    field: string,
    definition: FieldDefinition,
    key: 'formula' | 'defaultFormula',
    pointer: string,
    lines?: string,
  ): CompiledFormula | undefined => {
    const source = definition[key];
    if (source === undefined) return undefined;
    let expression: CompiledExpression;
    try {
      expression = compileExpression(source);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError) {
        problems.push({ pointer, message: error.message });
        return undefined;
      }
      throw error;
    }
    const dependencies = findDependencies(jsonata(source).ast(), module, modules, pointer, problems);
    return { field, lines, source, expression, reads: expressionReads(source), dependencies };
  };

  const record: CompiledFormula[] = [];
  const defaults: CompiledFormula[] = [];
  const lines = new Map<string, CompiledFormula[]>();
  for (const [name, field] of Object.entries(module.fields)) {
    const formula = compile(name, field, 'formula', `/fields/${name}/formula`);
    if (formula) record.push(formula);
    const fallback = compile(name, field, 'defaultFormula', `/fields/${name}/defaultFormula`);
    if (fallback) defaults.push(fallback);
    if (field.type === 'lines') {
      const rowFormulas = Object.entries(field.fields ?? {})
        .map(([lineField, definition]) => compile(lineField, definition, 'formula', `/fields/${name}/fields/${lineField}/formula`, name))
        .filter((f): f is CompiledFormula => f !== undefined);
      if (rowFormulas.length > 0) lines.set(name, order(rowFormulas, `/fields/${name}/fields`, problems));
    }
  }
  const ordered = order(record, '/fields', problems);
  const all = [...ordered, ...[...lines.values()].flat(), ...defaults];
  return {
    formulas: { lines, record: ordered, defaults, dependencies: dedupe(all.flatMap((f) => f.dependencies)) },
    problems,
  };
}

/** Topological order (formulas after the formulas they read); a cycle becomes a problem naming it. */
function order(formulas: CompiledFormula[], pointerBase: string, problems: Array<{ pointer: string; message: string }>): CompiledFormula[] {
  const byField = new Map(formulas.map((f) => [f.field, f]));
  const done = new Set<string>();
  const path: string[] = [];
  const result: CompiledFormula[] = [];
  const visit = (formula: CompiledFormula): boolean => {
    if (done.has(formula.field)) return true;
    const at = path.indexOf(formula.field);
    if (at >= 0) {
      const cycle = [...path.slice(at), formula.field];
      problems.push({
        pointer: `${pointerBase}/${cycle[0]}/formula`,
        message: `formulas read each other in a cycle: ${cycle.join(' → ')}`,
      });
      return false;
    }
    path.push(formula.field);
    let ok = true;
    for (const read of formula.reads) {
      const dependency = byField.get(read);
      if (dependency && dependency !== formula) ok = visit(dependency) && ok;
      else if (dependency === formula) {
        problems.push({
          pointer: `${pointerBase}/${formula.field}/formula`,
          message: `the formula of "${formula.field}" reads its own value`,
        });
        ok = false;
      }
    }
    path.pop();
    done.add(formula.field);
    result.push(formula);
    return ok;
  };
  for (const formula of formulas) {
    if (!visit(formula)) break;
  }
  return result;
}

function findDependencies(
  ast: unknown,
  module: ModuleDefinition,
  modules: ReadonlyMap<string, ModuleDefinition>,
  pointer: string,
  problems: Array<{ pointer: string; message: string }>,
): FormulaDependency[] {
  const found: FormulaDependency[] = [];
  walk(ast, (node) => {
    const name = node.type === 'function' ? (node.procedure as { value?: string } | undefined)?.value : undefined;
    if (!name || !RECORD_FUNCTIONS.has(name)) return;
    const args = (node.arguments as Array<{ type: string; value: unknown }> | undefined) ?? [];
    const literal = (i: number) => (args[i]?.type === 'string' ? (args[i].value as string) : undefined);
    const fail = (message: string) => problems.push({ pointer, message: `$${name}: ${message}` });
    if (name === 'related') {
      const relation = literal(0);
      const field = relation ? module.fields[relation] : undefined;
      if (!relation) return fail("its argument must be a relation field name in quotes, e.g. $related('account')");
      if (field?.type !== 'relation' || !field.module) return fail(`"${relation}" is not a relation field of ${module.name}`);
      found.push({ kind: 'related', module: field.module, relation });
    } else if (name === 'lookup') {
      // $lookup(object, key) is jsonata's own function; only $lookup('module', condition) reads records.
      if (args[0]?.type !== 'string') return;
      const target = literal(0)!;
      if (!modules.has(target)) return fail(`there is no module "${target}"`);
    } else {
      const target = literal(0);
      const relation = literal(1);
      if (!target || !relation) return fail('its first two arguments must be a module and its relation field, in quotes');
      const child = modules.get(target)?.fields[relation];
      if (!modules.has(target)) return fail(`there is no module "${target}"`);
      if (child?.type !== 'relation' || child.module !== module.name) {
        return fail(`"${target}.${relation}" is not a relation field of ${target} pointing to ${module.name}`);
      }
      if (name === 'sumRelated' && args.length > 2) {
        const summed = literal(2);
        const summedField = summed ? modules.get(target)?.fields[summed] : undefined;
        if (!summed || !summedField) return fail(`the third argument must be a field of ${target} in quotes`);
      }
      found.push({ kind: 'children', module: target, relation });
    }
  });
  return dedupe(found);
}

function walk(node: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
  } else if (node !== null && typeof node === 'object') {
    visit(node as Record<string, unknown>);
    for (const value of Object.values(node)) walk(value, visit);
  }
}

function dedupe(dependencies: FormulaDependency[]): FormulaDependency[] {
  const seen = new Map(dependencies.map((d) => [`${d.kind}:${d.module}:${d.relation}`, d]));
  return [...seen.values()];
}
