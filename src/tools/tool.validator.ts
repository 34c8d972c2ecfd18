import { validateCondition } from '../expressions/condition.compiler';
import { compileExpression, ExpressionSyntaxError } from '../expressions/jsonata.runner';
import { checkModuleSchema } from '../metadata/module-schema';
import { metadataSchemaValidator, schemaProblems } from '../metadata/schema-loader';
import type { MetadataProblem, ModuleDefinition } from '../metadata/metadata.types';
import type { ValueExpressions } from '../workflows/workflow.types';
import type { ToolDefinition } from './tool.types';

type Problem = { pointer: string; message: string };

/**
 * Validates tool bodies: the JSON Schema, parameters as field definitions (the
 * module schema's rules for fields), the visibility condition against the
 * module, and the action's module, fields, link, expressions, recipients and
 * workflow. The templates it names are checked against the set's templates
 * in metadata-set.ts.
 */
export function validateTools(
  sources: Array<{ file: string; body: unknown }>,
  modules: ReadonlyMap<string, ModuleDefinition>,
  /** Workflow name → its module, for runWorkflow actions. */
  workflows: ReadonlyMap<string, string> = new Map(),
): { tools: ToolDefinition[]; problems: MetadataProblem[] } {
  const validate = metadataSchemaValidator('tool.schema.json');
  const problems: MetadataProblem[] = [];
  const tools: ToolDefinition[] = [];
  const seen = new Map<string, string>();
  for (const { file, body } of sources) {
    if (!validate(body)) {
      problems.push(...schemaProblems(file, validate.errors));
      continue;
    }
    const tool = body as ToolDefinition;
    const found: Problem[] = [];
    const match = /^modules\/([^/]+)\/tools\/([^/]+)\.json$/.exec(file);
    if (match && (match[1] !== tool.module || match[2] !== tool.name)) {
      found.push({
        pointer: '/name',
        message: `the file modules/${match[1]}/tools/${match[2]}.json must hold tool "${match[2]}" of module "${match[1]}"`,
      });
    }
    const first = seen.get(tool.name);
    if (first) found.push({ pointer: '/name', message: `tool "${tool.name}" is already defined in ${first}` });
    else seen.set(tool.name, file);
    const module = modules.get(tool.module);
    if (!module) found.push({ pointer: '/module', message: `there is no module "${tool.module}"` });
    else found.push(...checkTool(tool, module, modules, workflows));
    problems.push(...found.map((p) => ({ file, ...p })));
    if (found.length === 0) tools.push(tool);
  }
  return { tools, problems };
}

function checkTool(
  tool: ToolDefinition,
  module: ModuleDefinition,
  modules: ReadonlyMap<string, ModuleDefinition>,
  workflows: ReadonlyMap<string, string>,
): Problem[] {
  const problems: Problem[] = [];
  const expression = (source: string, pointer: string) => {
    try {
      compileExpression(source);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      problems.push({ pointer, message: error.message });
    }
  };
  if (tool.visibleWhen) problems.push(...validateCondition(tool.visibleWhen, module, '/visibleWhen'));
  if (tool.parameters && Object.keys(tool.parameters).length > 0) {
    // Parameters are field definitions: checked by the module schema as the fields of a stand-in module.
    const standIn = { name: 'parameters', label: { en: 'Parameters' }, fields: tool.parameters };
    for (const problem of checkModuleSchema('', standIn)) {
      problems.push({ pointer: problem.pointer.replace(/^\/fields/, '/parameters'), message: problem.message });
    }
    for (const [name, field] of Object.entries(tool.parameters)) {
      if (field.type === 'relation' && field.module && !modules.has(field.module)) {
        problems.push({ pointer: `/parameters/${name}/module`, message: `there is no module "${field.module}"` });
      }
    }
  }
  const values = (target: ModuleDefinition, entries: ValueExpressions, at: string) => {
    for (const [field, source] of Object.entries(entries)) {
      const definition = target.fields[field];
      if (!definition) problems.push({ pointer: `${at}/${field}`, message: `"${field}" is not a field of ${target.name}` });
      else if (definition.formula !== undefined || definition.type === 'autonumber') {
        problems.push({ pointer: `${at}/${field}`, message: `"${field}" is computed by the engine and cannot be set` });
      }
      expression(source, `${at}/${field}`);
    }
  };
  const action = tool.action;
  if (action.type === 'createRecord') {
    const target = modules.get(action.module);
    if (!target) problems.push({ pointer: '/action/module', message: `there is no module "${action.module}"` });
    else {
      values(target, action.values, '/action/values');
      const link = action.linkField ? target.fields[action.linkField] : undefined;
      if (action.linkField && (link?.type !== 'relation' || link.module !== module.name)) {
        problems.push({
          pointer: '/action/linkField',
          message: `"${action.linkField}" is not a relation field of ${target.name} pointing to ${module.name}`,
        });
      }
    }
    if (action.updateSource) values(module, action.updateSource, '/action/updateSource');
  } else if (action.type === 'updateRecord') {
    values(module, action.values, '/action/values');
  } else if (action.type === 'sendEmail') {
    for (const [key, recipients] of [
      ['to', action.to],
      ['cc', action.cc],
    ] as const) {
      if (!recipients) continue;
      (recipients.fields ?? []).forEach((field, i) => {
        if (module.fields[field]?.type !== 'email')
          problems.push({ pointer: `/action/${key}/fields/${i}`, message: `"${field}" is not an email field of ${module.name}` });
      });
      if (recipients.expression !== undefined) expression(recipients.expression, `/action/${key}/expression`);
    }
  } else if (action.type === 'runWorkflow') {
    const owner = workflows.get(action.workflow);
    if (owner === undefined) problems.push({ pointer: '/action/workflow', message: `there is no workflow "${action.workflow}"` });
    else if (owner !== module.name) {
      problems.push({
        pointer: '/action/workflow',
        message: `the workflow "${action.workflow}" belongs to ${owner}; a tool of ${module.name} can only run workflows of ${module.name}`,
      });
    }
  }
  return problems;
}
