import type { Condition } from '../expressions/condition.compiler';
import type { Labels } from '../metadata/metadata.types';

/** Field → jsonata expression. */
export type ValueExpressions = Record<string, string>;

export interface Recipients {
  addresses?: string[];
  fields?: string[];
  expression?: string;
}

export type WorkflowAction =
  | { type: 'updateFields'; values: ValueExpressions }
  | { type: 'createRecord'; module: string; values: ValueExpressions; linkField?: string }
  | { type: 'updateLinkedRecord'; relation: string; values: ValueExpressions }
  | { type: 'updateRelatedRecords'; module: string; relation: string; values: ValueExpressions }
  | { type: 'sendEmail'; template: string; to: Recipients; cc?: Recipients; lang?: string }
  | { type: 'webhook'; url: string; body?: string; timeoutMs?: number }
  | { type: 'delay'; seconds?: number; until?: string }
  | { type: 'runTool'; tool: string; params?: ValueExpressions };

export type WorkflowTrigger = 'create' | 'update' | 'save' | 'delete' | 'schedule';

/** Whether a workflow with `trigger` starts on a save of kind `op` (`save` is create or update; `schedule` never). */
export function triggersOn(trigger: WorkflowTrigger, op: 'create' | 'update' | 'delete'): boolean {
  return trigger === op || (trigger === 'save' && op !== 'delete');
}

/** One workflow file, `modules/<module>/workflows/<name>.json` (see metadata/schema/workflow.schema.json). */
export interface WorkflowDefinition {
  $schema?: string;
  name: string;
  module: string;
  label?: Labels;
  description?: Labels;
  enabled?: boolean;
  trigger: WorkflowTrigger;
  watch?: Condition;
  condition?: Condition;
  schedule?: { cron: string; filter?: Condition };
  actions: WorkflowAction[];
}

/** A link in a run's causation chain: which workflow, acting on which record, led here. */
export interface CausationLink {
  workflow: string;
  module: string;
  recordId: string;
}

/** The outbox event of a save in a module some workflow watches. */
export interface RecordSavedEvent {
  /** Unique per save: a run is created once per workflow and event, however often it is delivered. */
  eventId: string;
  module: string;
  id: string;
  op: 'create' | 'update' | 'delete';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** The workflow runs that led to this save, oldest first (empty for a change by a person or integration). */
  causation: CausationLink[];
  depth: number;
}

export const RECORD_SAVED = 'record.saved';
/** Deepest cascade of workflow runs started by one originating change. */
export const MAX_WORKFLOW_DEPTH = 16;
