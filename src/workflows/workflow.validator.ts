import { CronExpressionParser } from 'cron-parser';
import { validateCondition } from '../expressions/condition.compiler';
import { compileExpression, ExpressionSyntaxError } from '../expressions/jsonata.runner';
import { metadataSchemaValidator, schemaProblems } from '../metadata/schema-loader';
import type { MetadataProblem, ModuleDefinition } from '../metadata/metadata.types';
import type { ValueExpressions, WorkflowAction, WorkflowDefinition } from './workflow.types';

type Problem = { pointer: string; message: string };

/**
 * Validates workflow bodies: the JSON Schema, then against the modules — the
 * module, watched fields and conditions, every action's target module, relation
 * and fields, expressions that compile, a cron that parses. Names are unique and
 * match their files (`modules/<module>/workflows/<name>.json`).
 */
export function validateWorkflows(
  sources: Array<{ file: string; body: unknown }>,
  modules: ReadonlyMap<string, ModuleDefinition>,
  /** Tool names by module, for runTool actions. */
  tools: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): { workflows: WorkflowDefinition[]; problems: MetadataProblem[] } {
  const validate = metadataSchemaValidator('workflow.schema.json');
  const problems: MetadataProblem[] = [];
  const workflows: WorkflowDefinition[] = [];
  const seen = new Map<string, string>();
  for (const { file, body } of sources) {
    if (!validate(body)) {
      problems.push(...schemaProblems(file, validate.errors));
      continue;
    }
    const workflow = body as WorkflowDefinition;
    const found: Problem[] = [];
    const match = /^modules\/([^/]+)\/workflows\/([^/]+)\.json$/.exec(file);
    if (match && (match[1] !== workflow.module || match[2] !== workflow.name)) {
      found.push({
        pointer: '/name',
        message: `the file modules/${match[1]}/workflows/${match[2]}.json must hold workflow "${match[2]}" of module "${match[1]}"`,
      });
    }
    const first = seen.get(workflow.name);
    if (first) found.push({ pointer: '/name', message: `workflow "${workflow.name}" is already defined in ${first}` });
    else seen.set(workflow.name, file);
    const module = modules.get(workflow.module);
    if (!module) {
      found.push({ pointer: '/module', message: `there is no module "${workflow.module}"` });
    } else {
      found.push(...checkWorkflow(workflow, module, modules, tools));
    }
    problems.push(...found.map((p) => ({ file, ...p })));
    if (found.length === 0) workflows.push(workflow);
  }
  return { workflows, problems };
}

function checkWorkflow(
  workflow: WorkflowDefinition,
  module: ModuleDefinition,
  modules: ReadonlyMap<string, ModuleDefinition>,
  tools: ReadonlyMap<string, ReadonlySet<string>>,
): Problem[] {
  const problems: Problem[] = [];
  if (workflow.watch) problems.push(...validateCondition(workflow.watch, module, '/watch'));
  if (workflow.condition) problems.push(...validateCondition(workflow.condition, module, '/condition'));
  if (workflow.schedule) {
    try {
      CronExpressionParser.parse(workflow.schedule.cron, { tz: 'UTC' });
    } catch (error) {
      problems.push({ pointer: '/schedule/cron', message: `not a cron pattern: ${(error as Error).message}` });
    }
    if (workflow.schedule.filter) problems.push(...validateCondition(workflow.schedule.filter, module, '/schedule/filter'));
  }
  workflow.actions.forEach((action, i) => problems.push(...checkAction(action, `/actions/${i}`, workflow, module, modules, tools)));
  return problems;
}

function checkAction(
  action: WorkflowAction,
  at: string,
  workflow: WorkflowDefinition,
  module: ModuleDefinition,
  modules: ReadonlyMap<string, ModuleDefinition>,
  tools: ReadonlyMap<string, ReadonlySet<string>>,
): Problem[] {
  const problems: Problem[] = [];
  const expression = (source: string | undefined, pointer: string) => {
    if (source === undefined) return;
    try {
      compileExpression(source);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      problems.push({ pointer, message: error.message });
    }
  };
  const values = (target: ModuleDefinition, entries: ValueExpressions) => {
    for (const [field, source] of Object.entries(entries)) {
      const definition = target.fields[field];
      if (!definition) problems.push({ pointer: `${at}/values/${field}`, message: `"${field}" is not a field of ${target.name}` });
      else if (definition.formula !== undefined || definition.type === 'autonumber') {
        problems.push({ pointer: `${at}/values/${field}`, message: `"${field}" is computed by the engine and cannot be set` });
      }
      expression(source, `${at}/values/${field}`);
    }
  };
  const relationTo = (owner: ModuleDefinition, field: string, target: string) =>
    owner.fields[field]?.type === 'relation' && owner.fields[field]?.module === target;
  if (
    workflow.trigger === 'delete' &&
    action.type !== 'sendEmail' &&
    action.type !== 'webhook' &&
    action.type !== 'createRecord' &&
    action.type !== 'delay'
  ) {
    problems.push({ pointer: `${at}/type`, message: `${action.type} needs the triggering record, which a delete trigger has removed` });
  }
  switch (action.type) {
    case 'updateFields':
      values(module, action.values);
      break;
    case 'createRecord': {
      const target = modules.get(action.module);
      if (!target) {
        problems.push({ pointer: `${at}/module`, message: `there is no module "${action.module}"` });
        break;
      }
      values(target, action.values);
      if (action.linkField && !relationTo(target, action.linkField, module.name)) {
        problems.push({
          pointer: `${at}/linkField`,
          message: `"${action.linkField}" is not a relation field of ${target.name} pointing to ${module.name}`,
        });
      }
      break;
    }
    case 'updateLinkedRecord': {
      const field = module.fields[action.relation];
      const target = field?.type === 'relation' && field.module ? modules.get(field.module) : undefined;
      if (!target) problems.push({ pointer: `${at}/relation`, message: `"${action.relation}" is not a relation field of ${module.name}` });
      else values(target, action.values);
      break;
    }
    case 'updateRelatedRecords': {
      const target = modules.get(action.module);
      if (!target) problems.push({ pointer: `${at}/module`, message: `there is no module "${action.module}"` });
      else if (!relationTo(target, action.relation, module.name)) {
        problems.push({
          pointer: `${at}/relation`,
          message: `"${action.relation}" is not a relation field of ${target.name} pointing to ${module.name}`,
        });
      } else values(target, action.values);
      break;
    }
    case 'sendEmail':
      for (const [key, recipients] of [
        ['to', action.to],
        ['cc', action.cc],
      ] as const) {
        if (!recipients) continue;
        (recipients.fields ?? []).forEach((field, j) => {
          if (module.fields[field]?.type !== 'email')
            problems.push({ pointer: `${at}/${key}/fields/${j}`, message: `"${field}" is not an email field of ${module.name}` });
        });
        expression(recipients.expression, `${at}/${key}/expression`);
      }
      break;
    case 'webhook':
      expression(action.body, `${at}/body`);
      break;
    case 'delay':
      expression(action.until, `${at}/until`);
      break;
    case 'runTool':
      if (!tools.get(module.name)?.has(action.tool))
        problems.push({ pointer: `${at}/tool`, message: `${module.name} has no tool "${action.tool}"` });
      for (const [name, source] of Object.entries(action.params ?? {})) expression(source, `${at}/params/${name}`);
      break;
  }
  return problems;
}
