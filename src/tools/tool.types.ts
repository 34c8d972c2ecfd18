import type { Condition } from '../expressions/condition.compiler';
import type { FieldDefinition, Labels } from '../metadata/metadata.types';
import type { ValueExpressions } from '../workflows/workflow.types';

export type ToolAction =
  | { type: 'createRecord'; module: string; values: ValueExpressions; linkField?: string; updateSource?: ValueExpressions }
  | { type: 'updateRecord'; values: ValueExpressions };

/** One tool file, `modules/<module>/tools/<name>.json` (see metadata/schema/tool.schema.json). */
export interface ToolDefinition {
  $schema?: string;
  name: string;
  module: string;
  label: Labels;
  confirm?: Labels;
  visibleWhen?: Condition;
  parameters?: Record<string, FieldDefinition>;
  action: ToolAction;
}
