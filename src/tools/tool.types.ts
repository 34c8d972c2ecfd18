import type { Condition } from '../expressions/condition.compiler';
import type { FieldDefinition, Labels } from '../metadata/metadata.types';
import type { Recipients, ValueExpressions } from '../workflows/workflow.types';

/** The formats a document template renders to (see src/documents/document-template.store.ts). */
export type ToolDocumentFormat = 'html' | 'pdf' | 'docx' | 'xlsx';

/** A document rendered from the source record and attached to a tool's email. */
export interface ToolAttachment {
  /** A document template of the tool's module (`templates/documents/<document>.hbs`, `.docx`, `.xlsx`). */
  document: string;
  format: ToolDocumentFormat;
  /** The document's language; the email's `lang` when left out. */
  lang?: string;
}

export type ToolAction =
  | { type: 'createRecord'; module: string; values: ValueExpressions; linkField?: string; updateSource?: ValueExpressions }
  | { type: 'updateRecord'; values: ValueExpressions }
  /** Renders the source record through a document template; the HTTP answer is the document itself. */
  | { type: 'generateDocument'; template: string; format: ToolDocumentFormat; lang?: string }
  /**
   * Queues an email from a template about the source record, with documents attached, in the tool's transaction;
   * recipients as in workflows (fixed addresses, email fields of the record, a jsonata expression with `$params`).
   */
  | { type: 'sendEmail'; template: string; to: Recipients; cc?: Recipients; lang?: string; attachments?: ToolAttachment[] }
  /** Starts a run of a workflow of the same module on the source record (its watch and condition do not apply). */
  | { type: 'runWorkflow'; workflow: string };

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
