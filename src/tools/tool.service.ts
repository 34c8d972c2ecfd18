import { Injectable } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/permission.policy';
import { clockBindings } from '../expressions/jsonata.runner';
import { recordBindings } from '../formulas/formula.evaluator';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { isPlainObject, toFieldErrors, type RecordData } from '../records/record-input';
import { SqlRecordReader } from '../records/record.reader';
import { RecordService } from '../records/record.service';
import { RecordValidationException } from '../records/record.exception';
import { toApiRecord, type ApiRecord } from '../records/record.view';
import type { RecordWriter } from '../records/record.writer';
import type { ValueExpressions } from '../workflows/workflow.types';
import { compileExpression } from '../expressions/jsonata.runner';
import type { CompiledTool } from './tool.compiler';

export interface ToolResult {
  tool: string;
  created: ApiRecord[];
  updated: ApiRecord[];
}

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
 * write through the same validation, rules, formulas and numbering as the API.
 */
@Injectable()
export class ToolService {
  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordService,
  ) {}

  async run(ctx: RequestContext, moduleName: string, id: string, toolName: string, body: unknown): Promise<ToolResult> {
    const toolCtx: RequestContext = { ...ctx, source: ctx.source === 'workflow' ? 'workflow' : 'tool' };
    return this.records.write(toolCtx, (writer) => this.runIn(writer, moduleName, id, toolName, body));
  }

  /** Runs a tool inside an open transaction (a workflow step uses this). */
  async runIn(writer: RecordWriter, moduleName: string, id: string, toolName: string, body: unknown): Promise<ToolResult> {
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
    const params = this.params(tool, body);
    const source = toApiRecord(await writer.load(module, id, true));
    if (tool.visibleWhen && !(await tool.visibleWhen.evaluate({ record: source, old: null, now: new Date() }))) {
      throw new AppException(
        'conflict',
        'tool_not_available',
        `The tool "${toolName}" is not available for ${module.name} ${source.number ?? id} in its current state.`,
      );
    }
    const evaluate = async (values: ValueExpressions): Promise<RecordData> => {
      const bindings = {
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
      };
      const result: RecordData = {};
      for (const [field, expression] of Object.entries(values)) {
        const value = await compileExpression(expression).evaluate(source, bindings);
        result[field] = value === undefined ? null : value;
      }
      return result;
    };
    const result: ToolResult = { tool: toolName, created: [], updated: [] };
    const action = tool.definition.action;
    if (action.type === 'createRecord') {
      const values = await evaluate(action.values);
      if (action.linkField) values[action.linkField] = id;
      result.created.push(toApiRecord(await writer.create(action.module, values)));
      if (action.updateSource) result.updated.push(toApiRecord(await writer.update(module.name, id, await evaluate(action.updateSource))));
    } else {
      result.updated.push(toApiRecord(await writer.update(module.name, id, await evaluate(action.values))));
    }
    return result;
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
