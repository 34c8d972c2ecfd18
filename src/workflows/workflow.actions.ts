import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { clockBindings } from '../expressions/jsonata.runner';
import { recordBindings } from '../formulas/formula.evaluator';
import type { MetadataSnapshot } from '../metadata/metadata.registry';
import { SqlRecordReader } from '../records/record.reader';
import type { RecordWriter } from '../records/record.writer';
import { toApiRecord } from '../records/record.view';
import { sqlLiteral } from '../records/sql';
import { recordTemplateData } from '../templates/record-template-data';
import type { CompiledWorkflow } from './workflow.compiler';
import type { RunRow } from './workflow-run.repository';
import type { Recipients, ValueExpressions } from './workflow.types';

type Data = Record<string, unknown>;

/** What an action needs to evaluate its expressions: the triggering record now, and before the change. */
export interface ActionScope {
  workflow: CompiledWorkflow;
  run: RunRow;
  snapshot: MetadataSnapshot;
  ctx: RequestContext;
  /** The triggering record as stored now (or as deleted, for a delete trigger). */
  record: Data;
}

/** Evaluates `values` (field → jsonata) over the triggering record; `extra` binds e.g. $target. */
export async function evaluateValues(scope: ActionScope, writer: RecordWriter, values: ValueExpressions, extra: Data = {}): Promise<Data> {
  const bindings = bindingsOf(scope, writer, extra);
  const result: Data = {};
  for (const [field, source] of Object.entries(values)) {
    const value = await scope.workflow.expression(source).evaluate(scope.record, bindings);
    result[field] = value === undefined ? null : value;
  }
  return result;
}

export async function evaluateExpression(scope: ActionScope, writer: RecordWriter, source: string): Promise<unknown> {
  return scope.workflow.expression(source).evaluate(scope.record, bindingsOf(scope, writer, {}));
}

function bindingsOf(scope: ActionScope, writer: RecordWriter, extra: Data): Data {
  const module = scope.snapshot.module(scope.run.module).definition;
  const now = new Date();
  return {
    ...recordBindings(module, scope.record, {
      id: scope.run.record_id ?? undefined,
      old: (scope.run.event.before as Data | null) ?? null,
      now,
      user: { id: scope.ctx.actorId, name: scope.ctx.actorName },
      reader: new SqlRecordReader(writer.tx, scope.snapshot),
    }),
    ...clockBindings(now),
    ...extra,
  };
}

/** The ids of records of `module` whose `relation` points at `id`. */
export async function relatedIds(writer: RecordWriter, module: string, relation: string, id: string): Promise<string[]> {
  const rows = await writer.tx.query<{ id: string }>(
    `SELECT id::text AS id FROM records WHERE module = ${sqlLiteral(module)} AND data @> jsonb_build_object(${sqlLiteral(relation)}, $1::text) ORDER BY created_at, id`,
    [id],
  );
  return rows.map((r) => r.id);
}

/** Recipient addresses: fixed ones, the record's email fields, and what an expression gives. */
export async function resolveRecipients(scope: ActionScope, writer: RecordWriter, recipients: Recipients | undefined): Promise<string[]> {
  if (!recipients) return [];
  const found: unknown[] = [...(recipients.addresses ?? []), ...(recipients.fields ?? []).map((f) => scope.record[f])];
  if (recipients.expression) {
    const value = await evaluateExpression(scope, writer, recipients.expression);
    found.push(...(Array.isArray(value) ? value : [value]));
  }
  return [...new Set(found.filter((v): v is string => typeof v === 'string' && v.length > 0))];
}

/**
 * The triggering record as the API shows it, for expressions, templates and webhook bodies; locked for the rest of
 * the step's transaction, so an action updating it reads it no more.
 */
export async function loadRecord(writer: RecordWriter, run: RunRow): Promise<Data> {
  if (!run.record_id) throw new AppException('validation', 'no_record', 'This run has no record.');
  const module = writer.snapshot.modules.get(run.module);
  const row = module ? await writer.find(module, run.record_id, true) : undefined;
  if (row) return toApiRecord(row);
  // Deleted (a delete trigger): the event's copy is all there is.
  return { id: run.record_id, module: run.module, ...((run.event.before as Data) ?? {}) };
}

/** What a workflow's email template sees: {@link recordTemplateData} of the triggering record, and the workflow's name. */
export async function templateData(scope: ActionScope, writer: RecordWriter): Promise<Data> {
  return { ...(await recordTemplateData(scope.snapshot, scope.run.module, scope.record, writer.tx)), workflow: scope.run.workflow };
}
