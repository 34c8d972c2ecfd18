import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/permission.policy';
import { DocumentService, type RenderedDocument } from '../documents/document.service';
import { clockBindings, compileExpression } from '../expressions/jsonata.runner';
import { recordBindings } from '../formulas/formula.evaluator';
import { MailService } from '../mail/mail.service';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { JOB_QUEUE, type JobQueue } from '../queue/job-queue';
import { isPlainObject, toFieldErrors, type RecordData } from '../records/record-input';
import { SqlRecordReader } from '../records/record.reader';
import { RecordService } from '../records/record.service';
import { RecordValidationException } from '../records/record.exception';
import { toApiRecord, type ApiRecord } from '../records/record.view';
import type { RecordWriter } from '../records/record.writer';
import { TemplateStore } from '../templates/template.store';
import { WorkflowRunRepository } from '../workflows/workflow-run.repository';
import type { ValueExpressions } from '../workflows/workflow.types';
import {
  generateDocument,
  runWorkflow,
  sendEmail,
  type ToolActionPorts,
  type ToolMail,
  type ToolRun,
  type ToolScope,
} from './tool.actions';
import type { CompiledTool } from './tool.compiler';
import { ToolNotRunnableException } from './tool.exception';

export type { ToolMail, ToolRun } from './tool.actions';

/** What a tool did: the records it created and changed, the messages it queued and the workflow runs it started. */
export interface ToolResult {
  tool: string;
  created: ApiRecord[];
  updated: ApiRecord[];
  mail: ToolMail[];
  runs: ToolRun[];
}

/** A tool's answer: its result, and for a generateDocument tool the document (what the HTTP endpoint returns). */
export interface ToolOutcome {
  result: ToolResult;
  document?: RenderedDocument;
}

/** Work a committed tool leaves for the queue: messages to send and workflow runs to execute. */
/** Tools offered for a record: those of its module whose `visibleWhen` holds, in the layout's order when it names them. */
export async function visibleTools(snapshot: MetadataSnapshot, moduleName: string, record: RecordData): Promise<CompiledTool[]> {
  const tools = snapshot.tools.get(moduleName);
  if (!tools) return [];
  const order = snapshot.modules.get(moduleName)?.layout?.tools ?? [];
  const candidates =
    order.length > 0 ? order.map((name) => tools.get(name)).filter((t): t is CompiledTool => t !== undefined) : [...tools.values()];
  const visible: CompiledTool[] = [];
  for (const tool of candidates) {
    if (!tool.visibleWhen || (await tool.visibleWhen.evaluate({ record, old: null, now: new Date() }))) visible.push(tool);
  }
  return visible;
}

/**
 * Runs module tools: checks the tool is offered for the record and the
 * parameters are valid, then performs its action in one transaction — every
 * write through the same validation, rules, formulas and numbering as the API;
 * a message is queued and a workflow run created in that transaction too, and
 * handed to the job queue only once it has committed.
 */
@Injectable()
export class ToolService {
  private readonly ports: ToolActionPorts;

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordService,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    documents: DocumentService,
    private readonly mail: MailService,
    templates: TemplateStore,
    runs: WorkflowRunRepository,
  ) {
    this.ports = { documents, mail, templates, runs };
  }

  /** Runs a tool in a transaction of its own (the HTTP endpoint); what it queued is handed on after the commit. */
  async run(ctx: RequestContext, moduleName: string, id: string, toolName: string, body: unknown): Promise<ToolOutcome> {
    const toolCtx: RequestContext = { ...ctx, source: ctx.source === 'workflow' ? 'workflow' : 'tool' };
    return this.records.write(toolCtx, (writer) => this.perform(writer, moduleName, id, toolName, body, true));
  }

  /**
   * Runs a tool inside an open transaction (a workflow step uses this): what the tool queues is handed on after
   * that transaction commits, and never if it rolls back.
   */
  async runIn(writer: RecordWriter, moduleName: string, id: string, toolName: string, body: unknown): Promise<ToolResult> {
    return (await this.perform(writer, moduleName, id, toolName, body, false)).result;
  }

  private async perform(
    writer: RecordWriter,
    moduleName: string,
    id: string,
    toolName: string,
    body: unknown,
    answersPerson: boolean,
  ): Promise<ToolOutcome> {
    const snapshot = writer.snapshot;
    const module = snapshot.module(moduleName);
    assertPermission(writer.ctx, `${module.name}:read`);
    const tool = snapshot.tools.get(module.name)?.get(toolName);
    if (!tool) {
      const known = [...(snapshot.tools.get(module.name)?.keys() ?? [])];
      throw new AppException(
        'not_found',
        'unknown_tool',
        `${module.name} has no tool "${toolName}"${known.length ? `; its tools are ${known.join(', ')}` : ''}.`,
      );
    }
    const action = tool.definition.action;
    if (action.type === 'generateDocument' && !answersPerson) {
      throw new ToolNotRunnableException(toolName, 'it answers with a document, which a workflow has nobody to hand to.');
    }
    // A workflow run acts on the record with the engine's permissions: starting one takes the right to change it.
    if (action.type === 'runWorkflow') assertPermission(writer.ctx, `${module.name}:update`);
    const params = this.params(tool, body);
    const row = await writer.load(module, id, true);
    const source = toApiRecord(row);
    if (tool.visibleWhen && !(await tool.visibleWhen.evaluate({ record: source, old: null, now: new Date() }))) {
      throw new AppException(
        'conflict',
        'tool_not_available',
        `The tool "${toolName}" is not available for ${module.name} ${source.number ?? id} in its current state.`,
      );
    }
    const bindings = () => ({
      ...recordBindings(module.definition, source, {
        id,
        old: null,
        now: new Date(),
        user: { id: writer.ctx.actorId, name: writer.ctx.actorName },
        reader: new SqlRecordReader(writer.tx, snapshot),
      }),
      ...clockBindings(new Date()),
      source,
      params,
    });
    const evaluate = async (values: ValueExpressions): Promise<RecordData> => {
      const scope = bindings();
      const result: RecordData = {};
      for (const [field, expression] of Object.entries(values)) {
        const value = await compileExpression(expression).evaluate(source, scope);
        result[field] = value === undefined ? null : value;
      }
      return result;
    };
    const scope: ToolScope = {
      writer,
      tool,
      module,
      id,
      data: row.data,
      source,
      params,
      invocation: randomUUID(),
      evaluate: (expression) => compileExpression(expression).evaluate(source, bindings()),
    };
    const result: ToolResult = { tool: toolName, created: [], updated: [], mail: [], runs: [] };
    const outcome: ToolOutcome = { result };
    switch (action.type) {
      case 'createRecord': {
        const values = await evaluate(action.values);
        if (action.linkField) values[action.linkField] = id;
        result.created.push(toApiRecord(await writer.create(action.module, values)));
        if (action.updateSource)
          result.updated.push(toApiRecord(await writer.update(module.name, id, await evaluate(action.updateSource))));
        break;
      }
      case 'updateRecord':
        result.updated.push(toApiRecord(await writer.update(module.name, id, await evaluate(action.values))));
        break;
      case 'generateDocument':
        outcome.document = await generateDocument(this.ports, scope, action);
        break;
      case 'sendEmail': {
        const message = await sendEmail(this.ports, scope, action);
        result.mail.push(message);
        if (message.status === 'queued') writer.afterCommit(() => this.mail.dispatch(message.id));
        break;
      }
      case 'runWorkflow': {
        const run = await runWorkflow(this.ports, scope, action);
        result.runs.push(run);
        if (run.status === 'queued') writer.afterCommit(() => this.queue.enqueue('workflow.run', { runId: run.id }, `run:${run.id}:0`));
        break;
      }
    }
    return outcome;
  }

  private params(tool: CompiledTool, body: unknown): RecordData {
    if (body !== undefined && body !== null && !isPlainObject(body)) {
      throw new AppException('bad_request', 'invalid_tool_body', 'Send the tool parameters as { "params": { ... } }.');
    }
    const raw = (body as { params?: unknown } | undefined)?.params ?? {};
    if (!isPlainObject(raw)) throw new AppException('bad_request', 'invalid_tool_body', '"params" must be an object of parameter values.');
    const params: RecordData = {};
    for (const [name, field] of Object.entries(tool.definition.parameters ?? {}))
      if (field.default !== undefined) params[name] = field.default;
    Object.assign(params, raw);
    if (!tool.validateParams(params)) {
      const stand = { name: tool.definition.name, fields: new Map(Object.entries(tool.definition.parameters ?? {})) };
      const errors = toFieldErrors(stand as never, tool.validateParams.errors).map((e) => ({ ...e, field: `params.${e.field}` }));
      throw new RecordValidationException(`${tool.definition.name} tool's parameters`, errors);
    }
    return params;
  }
}
