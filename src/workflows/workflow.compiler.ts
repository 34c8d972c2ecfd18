import { compileCondition, type CompiledCondition } from '../expressions/condition.compiler';
import { compileExpression, type CompiledExpression } from '../expressions/jsonata.runner';
import type { ModuleDefinition } from '../metadata/metadata.types';
import type { WorkflowDefinition } from './workflow.types';

/** A workflow with its conditions and expressions compiled once per metadata version. */
export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  readonly watch?: CompiledCondition;
  readonly condition?: CompiledCondition;
  readonly filter?: CompiledCondition;
  /** Compiled expressions by source text (values, recipients, webhook bodies, delays). */
  expression(source: string): CompiledExpression;
}

export function compileWorkflow(definition: WorkflowDefinition, module: ModuleDefinition): CompiledWorkflow {
  return {
    definition,
    watch: definition.watch ? compileCondition(definition.watch, module) : undefined,
    condition: definition.condition ? compileCondition(definition.condition, module) : undefined,
    filter: definition.schedule?.filter ? compileCondition(definition.schedule.filter, module) : undefined,
    // The runner's cache keeps one compiled object per source text.
    expression: (source) => compileExpression(source),
  };
}
