import type { ValidateFunction } from 'ajv';
import { compileCondition, type CompiledCondition } from '../expressions/condition.compiler';
import { createRecordAjv } from '../metadata/compiled-module';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { buildRecordSchema } from '../records/record-schema.builder';
import type { ToolDefinition } from './tool.types';

/** A tool with its visibility condition and parameter validator compiled once per metadata version. */
export interface CompiledTool {
  readonly definition: ToolDefinition;
  readonly visibleWhen?: CompiledCondition;
  /** Validates the parameters a user sends (types, required, options, lengths; unknown ones refused). */
  readonly validateParams: ValidateFunction;
}

export function compileTool(definition: ToolDefinition, module: ModuleDefinition): CompiledTool {
  const parameters: ModuleDefinition = { name: definition.name, label: definition.label, fields: definition.parameters ?? {} };
  return {
    definition,
    visibleWhen: definition.visibleWhen ? compileCondition(definition.visibleWhen, module) : undefined,
    validateParams: createRecordAjv().compile(buildRecordSchema(parameters, 'create')),
  };
}
