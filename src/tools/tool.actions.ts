import type { CompiledModule } from '../metadata/compiled-module';
import { DocumentTemplateNotFoundException } from '../documents/document.exception';
import type { DocumentService, RenderedDocument } from '../documents/document.service';
import type { MailService } from '../mail/mail.service';
import type { MailStatus } from '../mail/mail.repository';
import type { RecordData } from '../records/record-input';
import type { RecordWriter } from '../records/record.writer';
import type { ApiRecord } from '../records/record.view';
import { recordTemplateData } from '../templates/record-template-data';
import type { TemplateStore } from '../templates/template.store';
import type { WorkflowRunRepository } from '../workflows/workflow-run.repository';
import { MAX_WORKFLOW_DEPTH, type Recipients } from '../workflows/workflow.types';
import type { CompiledTool } from './tool.compiler';
import { ToolNoRecipientException, ToolTemplateNotFoundException, ToolWorkflowNotFoundException } from './tool.exception';
import type { ToolAction } from './tool.types';

/** A message a tool queued: `queued` is sent after the tool's transaction commits; `kept` when there is no SMTP_URL. */
export interface ToolMail {
  id: string;
  status: MailStatus;
  to: string[];
  cc: string[];
  /** File names of the attached documents. */
  attachments: string[];
}

/** A workflow run a tool started: `queued` runs after the commit; `stopped` when loop protection refused it. */
export interface ToolRun {
  id: string;
  workflow: string;
  status: 'queued' | 'stopped';
  error?: string;
}

/** What a running tool acts on: the source record (locked), its parameters and an evaluator for its expressions. */
export interface ToolScope {
  writer: RecordWriter;
  tool: CompiledTool;
  module: CompiledModule;
  id: string;
  /** The source record as stored (what a workflow event carries). */
  data: RecordData;
  /** The source record as the API shows it (what documents and templates see). */
  source: ApiRecord;
  params: RecordData;
  /** Unique per run of the tool: the idempotency key of its message, the dedupe key of its workflow run. */
  invocation: string;
  /** Evaluates jsonata over the source record with `$source`, `$params`, `$user`, `$now()` and `$related(...)` bound. */
  evaluate(expression: string): Promise<unknown>;
}

/** The services the document, email and workflow actions use. */
export interface ToolActionPorts {
  documents: DocumentService;
  mail: MailService;
  templates: TemplateStore;
  runs: WorkflowRunRepository;
}

type Action<T extends ToolAction['type']> = Extract<ToolAction, { type: T }>;

/** generateDocument: the source record through a document template, read inside the tool's transaction. */
export function generateDocument(ports: ToolActionPorts, scope: ToolScope, action: Action<'generateDocument'>): Promise<RenderedDocument> {
  return renderDocument(ports, scope, action.template, action.format, action.lang ?? 'en', 'action.template');
}

/**
 * sendEmail: renders the attachments and queues the message in the tool's transaction (a rolled-back tool queues
 * nothing). The caller hands a `queued` message to the queue after the commit.
 */
export async function sendEmail(ports: ToolActionPorts, scope: ToolScope, action: Action<'sendEmail'>): Promise<ToolMail> {
  const name = scope.tool.definition.name;
  if (!ports.templates.has(action.template)) {
    const known = ports.templates.names();
    throw new ToolTemplateNotFoundException(
      name,
      'action.template',
      `There is no email template "${action.template}"${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}.`,
    );
  }
  const to = await recipients(scope, action.to);
  const cc = await recipients(scope, action.cc);
  if (to.length === 0) {
    // Point at what the user can fill in: the tool's first email parameter, if it has one.
    const emailParameter = Object.entries(scope.tool.definition.parameters ?? {}).find(([, field]) => field.type === 'email')?.[0];
    throw new ToolNoRecipientException(name, emailParameter ? `params.${emailParameter}` : 'action.to');
  }
  const attachments: Array<{ filename: string; contentType: string; content: Buffer }> = [];
  for (const [i, attachment] of (action.attachments ?? []).entries()) {
    const lang = attachment.lang ?? action.lang ?? 'en';
    const document = await renderDocument(ports, scope, attachment.document, attachment.format, lang, `action.attachments[${i}].document`);
    attachments.push({
      filename: document.filename,
      // A MIME part's type goes without parameters here: nodemailer adds the charset of text parts itself.
      contentType: document.contentType.split(';')[0].trim(),
      content: typeof document.body === 'string' ? Buffer.from(document.body, 'utf8') : document.body,
    });
  }
  const { writer, module } = scope;
  const data = {
    ...(await recordTemplateData(writer.snapshot, module.name, scope.source, writer.tx)),
    params: scope.params,
    tool: name,
  };
  const message = await ports.mail.queue(
    {
      to,
      cc,
      template: action.template,
      data,
      lang: action.lang,
      idempotencyKey: `tool:${scope.invocation}`,
      record: { module: module.name, id: scope.id },
      attachments,
    },
    writer.tx,
  );
  return { id: message.id, status: message.status, to, cc, attachments: attachments.map((a) => a.filename) };
}

/**
 * runWorkflow: inserts a `queued` run (trigger `manual`) of a workflow of the tool's module on the source record, in
 * the tool's transaction; the caller queues it after the commit. The workflow's trigger, watch, condition and
 * `enabled` do not apply to an explicit run. Loop protection does: a run that would repeat a workflow on the same
 * record within one originating change, or go deeper than the cascade limit, is recorded `stopped`.
 */
export async function runWorkflow(ports: ToolActionPorts, scope: ToolScope, action: Action<'runWorkflow'>): Promise<ToolRun> {
  const { writer, module } = scope;
  const snapshot = writer.snapshot;
  const workflow = snapshot.workflows.get(action.workflow);
  if (!workflow || workflow.definition.module !== module.name) {
    throw new ToolWorkflowNotFoundException(scope.tool.definition.name, action.workflow, module.name);
  }
  const causation = writer.ctx.causation ?? [];
  const chain = [...causation.map((link) => link.workflow), action.workflow].join(' → ');
  let stop: string | undefined;
  if (causation.length >= MAX_WORKFLOW_DEPTH) {
    stop = `Stopped: the cascade of workflow runs from one change is deeper than ${MAX_WORKFLOW_DEPTH} (${chain}).`;
  } else if (causation.some((link) => link.workflow === action.workflow && link.recordId === scope.id)) {
    stop = `Stopped: workflow "${action.workflow}" would run again on ${module.name} ${scope.id} within one originating change (${chain}).`;
  }
  const id = await ports.runs.create(
    {
      workflow: action.workflow,
      version: snapshot.version,
      module: module.name,
      recordId: scope.id,
      trigger: 'manual',
      event: { after: scope.data, tool: scope.tool.definition.name },
      causation,
      depth: causation.length,
      dedupeKey: `tool:${scope.invocation}`,
      status: stop ? 'stopped' : 'queued',
      error: stop,
    },
    writer.tx,
  );
  // The dedupe key is new for every invocation, so the insert always creates the run.
  if (!id) throw new Error(`workflow run for tool invocation ${scope.invocation} already exists`);
  return { id, workflow: action.workflow, status: stop ? 'stopped' : 'queued', ...(stop ? { error: stop } : {}) };
}

/** Recipient addresses as workflows find them: fixed ones, the record's email fields, and what an expression gives. */
async function recipients(scope: ToolScope, from: Recipients | undefined): Promise<string[]> {
  if (!from) return [];
  const found: unknown[] = [...(from.addresses ?? []), ...(from.fields ?? []).map((field) => scope.source[field])];
  if (from.expression) {
    const value = await scope.evaluate(from.expression);
    found.push(...(Array.isArray(value) ? value : [value]));
  }
  return [...new Set(found.filter((v): v is string => typeof v === 'string' && v.trim().length > 0).map((v) => v.trim()))];
}

async function renderDocument(
  ports: ToolActionPorts,
  scope: ToolScope,
  template: string,
  format: string,
  lang: string,
  field: string,
): Promise<RenderedDocument> {
  try {
    return await ports.documents.renderRecord(scope.writer.ctx, scope.writer.tx, scope.module.name, scope.source, template, format, lang);
  } catch (error) {
    if (error instanceof DocumentTemplateNotFoundException)
      throw new ToolTemplateNotFoundException(scope.tool.definition.name, field, error.detail);
    throw error;
  }
}
