import { validateCondition } from '../expressions/condition.compiler';
import { metadataSchemaValidator, schemaProblems } from '../metadata/schema-loader';
import type { MetadataProblem, ModuleDefinition } from '../metadata/metadata.types';
import type { RuleDefinition } from './rule.types';

/**
 * Validates `modules/<m>/rules.json` bodies: the JSON Schema, then every rule
 * against its module — fields exist, option restrictions name picklists and
 * their options, conditions fit the fields they test.
 */
export function validateRules(
  sources: Array<{ file: string; body: unknown }>,
  modules: ReadonlyMap<string, ModuleDefinition>,
): { rules: Map<string, RuleDefinition[]>; problems: MetadataProblem[] } {
  const validate = metadataSchemaValidator('rules.schema.json');
  const problems: MetadataProblem[] = [];
  const rules = new Map<string, RuleDefinition[]>();
  for (const { file, body } of sources) {
    const moduleName = /^modules\/([^/]+)\/rules\.json$/.exec(file)?.[1] ?? '';
    const module = modules.get(moduleName);
    if (!module) {
      problems.push({
        file,
        pointer: '',
        message: `there is no module "${moduleName}" for these rules; create modules/${moduleName}/module.json first`,
      });
      continue;
    }
    if (!validate(body)) {
      problems.push(...schemaProblems(file, validate.errors));
      continue;
    }
    // Files wrap the rules with their $schema; the admin API also takes the bare array.
    const wrapped = !Array.isArray(body);
    const list = (wrapped ? (body as { rules: RuleDefinition[] }).rules : body) as RuleDefinition[];
    const found = checkRules(list, module).map((p) => ({ file, ...p, pointer: wrapped ? `/rules${p.pointer}` : p.pointer }));
    problems.push(...found);
    if (found.length === 0) rules.set(moduleName, list);
  }
  return { rules, problems };
}

function checkRules(rules: RuleDefinition[], module: ModuleDefinition): Array<{ pointer: string; message: string }> {
  const problems: Array<{ pointer: string; message: string }> = [];
  const ids = new Map<string, number>();
  rules.forEach((rule, i) => {
    const at = `/${i}`;
    const first = ids.get(rule.id);
    if (first !== undefined)
      problems.push({ pointer: `${at}/id`, message: `rule id "${rule.id}" is already used by rule ${first}; ids must be unique` });
    else ids.set(rule.id, i);

    for (const effect of ['show', 'hide', 'require', 'readOnly'] as const) {
      (rule[effect] ?? []).forEach((field, j) => {
        const definition = module.fields[field];
        if (!definition) {
          problems.push({ pointer: `${at}/${effect}/${j}`, message: `"${field}" is not a field of ${module.name}` });
        } else if (effect === 'require' && (definition.formula || definition.type === 'autonumber')) {
          problems.push({ pointer: `${at}/${effect}/${j}`, message: `"${field}" is computed by the engine; requiring it has no effect` });
        }
      });
    }
    for (const field of rule.show ?? []) {
      if (rule.hide?.includes(field)) {
        problems.push({ pointer: `${at}/hide/${rule.hide.indexOf(field)}`, message: `"${field}" is both shown and hidden by this rule` });
      }
    }
    for (const [field, allowed] of Object.entries(rule.options ?? {})) {
      const definition = module.fields[field];
      const pointer = `${at}/options/${field}`;
      if (!definition) {
        problems.push({ pointer, message: `"${field}" is not a field of ${module.name}` });
      } else if (definition.type !== 'picklist' && definition.type !== 'multipicklist') {
        problems.push({ pointer, message: `"${field}" is a ${definition.type} field; options can only be restricted on picklists` });
      } else {
        allowed.forEach((option, j) => {
          if (!definition.options?.includes(option)) {
            problems.push({
              pointer: `${pointer}/${j}`,
              message: `"${option}" is not an option of ${field} (${definition.options?.join(', ')})`,
            });
          }
        });
      }
    }
    problems.push(...validateCondition(rule.when, module, `${at}/when`));
  });
  return problems;
}
