import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import { SYSTEM_CONTEXT, type RequestContext } from '../common/request-context';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { SqlExecutor } from '../database/database';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { JOB_QUEUE, type JobQueue } from '../queue/job-queue';
import { OutboxRelay } from '../queue/outbox.relay';
import { conditionToFilters } from '../records/record.reader';
import { compileListQuery } from '../records/record-query.compiler';
import { RECORD_COLUMNS, type RecordRow } from '../records/record.repository';
import { RecordService } from '../records/record.service';
import { toApiRecord } from '../records/record.view';
import type { RecordWriter } from '../records/record.writer';
import { ToolService } from '../tools/tool.service';
import { postWebhook } from './webhook.client';
import {
  evaluateExpression,
  evaluateValues,
  loadRecord,
  relatedIds,
  resolveRecipients,
  templateData,
  type ActionScope,
} from './workflow.actions';
import type { CompiledWorkflow } from './workflow.compiler';
import { WorkflowRunRepository, type NewRun, type RunNext, type RunRow, type StepDone } from './workflow-run.repository';
import { MAX_WORKFLOW_DEPTH, RECORD_SAVED, triggersOn, type RecordSavedEvent, type WorkflowAction } from './workflow.types';

/** Sends a workflow's email through the mail outbox, idempotently per (run, step). */
export interface WorkflowMailer {
  queue(
    input: {
      to: string[];
      cc?: string[];
      template: string;
      data: object;
      lang?: string;
      idempotencyKey: string;
      record?: { module: string; id: string };
      workflowRunId: string;
    },
    executor: SqlExecutor,
  ): Promise<{ id: string }>;
  dispatch(messageId: string): Promise<void>;
}
export const WORKFLOW_MAILER = Symbol('WORKFLOW_MAILER');

/** Attempts per run before it is `failed`; before attempt n+1 the run waits RETRY_BASE_MS × 2^(n-1) (0.2, 0.4, 0.8, 1.6 s). */
export const MAX_RUN_ATTEMPTS = 5;
const RETRY_BASE_MS = 200;
const POLL_MS = 1000;
/** A run due within this is woken by a timer in this process; later ones (and any a stopped process left) by the poll. */
const WAKE_WITHIN_MS = 60_000;

type Data = Record<string, unknown>;
type WebhookAction = Extract<WorkflowAction, { type: 'webhook' }>;

/** The step being attempted (moves along a group), for its completion or its failure. */
interface StepAttempt {
  runId: string;
  step: number;
  action: string;
  startedAt: Date;
}

/**
 * How a group of steps ended: done (`finished` when it held the last step: the run is completed), waiting (a
 * delay), or elsewhere (another delivery of the run did a step of it, or the event has its run already).
 */
type GroupOutcome = { kind: 'done'; finished: boolean } | { kind: 'waiting' } | { kind: 'elsewhere' };

/** What an action did: its result for the run log, and what the group's transaction must do after it. */
interface ActionEffect {
  result: unknown;
  /** The triggering record as the action left it, when known (else it is read again before the next step). */
  record?: Data;
  mailId?: string;
  resumeAt?: Date;
}

/** Thrown inside a step's transaction to roll it back: another delivery of the run has done this step. */
class StepDoneElsewhere extends Error {}

/**
 * Runs workflows: creates a run per matching workflow for each committed save
 * (exactly once per event), executes its actions in order — each step's writes
 * and its completion in one transaction, so a redelivered job repeats nothing —
 * retries with backoff, stops loops, resumes delays and ticks schedules.
 */
@Injectable()
export class WorkflowEngine implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Workflows');
  private timer?: NodeJS.Timeout;
  private readonly wakers = new Set<NodeJS.Timeout>();
  private scheduled = new Set<string>();

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordService,
    private readonly runs: WorkflowRunRepository,
    @Inject(WORKFLOW_MAILER) private readonly mailer: WorkflowMailer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    private readonly tools: ToolService,
    relay: OutboxRelay,
  ) {
    relay.on(RECORD_SAVED, (payload) => this.trigger(payload as RecordSavedEvent));
    queue.handle('workflow.run', ({ runId }) => this.run(runId));
    queue.handle('workflow.tick', ({ workflow }) => this.tick(workflow));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.registry.onSwap((snapshot) => this.syncSchedules(snapshot));
    await this.syncSchedules(this.registry.snapshot());
    // Due delays, and runs a stopped process left behind, are picked up by polling.
    this.timer = setInterval(
      () => void this.resumeDue().catch((e: Error) => this.logger.error(`Resuming runs failed: ${e.message}`)),
      POLL_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    for (const waker of this.wakers) clearTimeout(waker);
    this.wakers.clear();
  }

  /** Hands run `runId` to the queue at `at` (a retry's backoff, a short delay); the poll covers what this misses. */
  private wake(runId: string, at: Date): void {
    const wait = at.getTime() - Date.now();
    if (wait > WAKE_WITHIN_MS) return;
    const waker = setTimeout(
      () => {
        this.wakers.delete(waker);
        this.queue
          .enqueue('workflow.run', { runId }, `run:${runId}:wake:${at.getTime()}`)
          .catch((e: Error) => this.logger.warn(`Waking run ${runId} failed (the poll will): ${e.message}`));
      },
      Math.max(0, wait) + 5,
    );
    waker.unref();
    this.wakers.add(waker);
  }

  /**
   * Creates the runs a committed save triggers (idempotent per event) and executes them at once, here: the save's
   * outbox event is the run's only hop through the queue. A run that cannot finish now (a failed step waiting
   * for its retry, a delay) continues through the queue; one left behind by a stopped process is found by the poll.
   */
  async trigger(event: RecordSavedEvent): Promise<void> {
    const snapshot = this.registry.snapshot();
    const started: NewRun[] = [];
    for (const workflow of snapshot.workflowsByModule.get(event.module) ?? []) {
      const { definition } = workflow;
      if (!triggersOn(definition.trigger, event.op)) continue;
      const scope = { record: event.after ?? event.before ?? {}, old: event.op === 'create' ? null : event.before, now: new Date() };
      if (workflow.watch && !(await workflow.watch.evaluate(scope))) continue;
      if (workflow.condition && !(await workflow.condition.evaluate(scope))) continue;
      let stop: string | undefined;
      if (event.depth >= MAX_WORKFLOW_DEPTH) {
        stop = `Stopped: the cascade of workflow runs from one change is deeper than ${MAX_WORKFLOW_DEPTH} (${event.causation.map((c) => c.workflow).join(' → ')}).`;
      } else if (event.causation.some((link) => link.workflow === definition.name && link.recordId === event.id)) {
        stop = `Stopped: workflow "${definition.name}" would run again on ${event.module} ${event.id} within one originating change (${[...event.causation.map((c) => c.workflow), definition.name].join(' → ')}).`;
      }
      const run: NewRun = {
        workflow: definition.name,
        version: snapshot.version,
        module: event.module,
        recordId: event.id,
        trigger: event.op,
        event: { before: event.before, after: event.after },
        causation: event.causation,
        depth: event.depth,
        dedupeKey: event.eventId,
      };
      if (stop) {
        if (await this.runs.create({ ...run, status: 'stopped', error: stop })) this.logger.warn(stop);
        continue;
      }
      started.push(run);
    }
    for (const run of started) {
      const row = this.runs.plan(run);
      try {
        await this.execute(row, new Set(), run.dedupeKey);
      } catch (error) {
        // The bookkeeping itself failed (the database, say): the run is written if it was not, and queued again.
        this.logger.warn(`Workflow run ${row.id} (${row.workflow}) goes back to the queue: ${(error as Error).message}`);
        if (await this.runs.insertStarted(row, run.dedupeKey)) {
          await this.runs.setStatus(row.id, 'queued');
          await this.queue.enqueue('workflow.run', { runId: row.id }, `run:${row.id}:0`);
        }
      }
    }
  }

  /** The `workflow.run` job: continues a run from its next step. Safe to call twice: finished steps are never repeated. */
  async run(runId: string): Promise<void> {
    const run = await this.runs.claim(runId);
    if (run) await this.execute(run, await this.runs.completedSteps(runId));
  }

  /** Puts a failed or stopped run back in the queue; its finished steps stay finished. */
  async retry(runId: string): Promise<boolean> {
    if (!(await this.runs.resetForRetry(runId))) return false;
    await this.queue.enqueue('workflow.run', { runId }, `run:${runId}:retry:${Date.now()}`);
    return true;
  }

  /**
   * One attempt at a run, from its next step. The steps go in groups, each group one transaction: consecutive
   * steps that only touch the database commit together with their completion (and the run's, with the last step),
   * so a step is done exactly once and a failed step undoes its group; a webhook is a group of its own, as its call
   * leaves the database. A failed step leaves the run `queued` for a retry after an exponential backoff (the poll,
   * or a timer here, hands it to the queue), or `failed` after the last attempt. With `insert` (the dedupe key of a
   * new run from {@link plan}) the run itself is written in its first group's transaction.
   */
  private async execute(run: RunRow, completed: ReadonlySet<number>, insert?: string): Promise<void> {
    const snapshot = this.registry.snapshot();
    const workflow = snapshot.workflows.get(run.workflow);
    if (!workflow) {
      if (insert && !(await this.runs.insertStarted(run, insert))) return;
      await this.runs.setStatus(run.id, 'failed', { error: `The workflow "${run.workflow}" no longer exists.` });
      return;
    }
    const ctx: RequestContext = {
      actorId: `workflow:${run.workflow}`,
      actorName: `workflow ${run.workflow}`,
      permissions: SYSTEM_CONTEXT.permissions,
      source: 'workflow',
      causation: [...run.causation, { workflow: run.workflow, module: run.module, recordId: run.record_id ?? '' }],
    };
    const actions = workflow.definition.actions;
    if (insert && actions[run.next_step]?.type === 'webhook') {
      // The webhook's delivery id is the run's: the run is written before the call, so a retry keeps the id.
      if (!(await this.runs.insertStarted(run, insert))) return;
      insert = undefined;
    }
    let finished = false;
    for (let first = run.next_step; first < actions.length;) {
      if (completed.has(first)) {
        first++;
        continue;
      }
      const group = [first];
      if (actions[first].type !== 'webhook' && actions[first].type !== 'delay') {
        for (let next = first + 1; next < actions.length && !completed.has(next) && actions[next].type !== 'webhook'; next++) {
          group.push(next);
          if (actions[next].type === 'delay') break;
        }
      }
      const attempt: StepAttempt = { runId: run.id, step: first, action: actions[first].type, startedAt: new Date() };
      let outcome: GroupOutcome;
      try {
        outcome =
          actions[first].type === 'webhook'
            ? await this.webhookStep(snapshot, workflow, run, attempt, actions[first] as WebhookAction, ctx, first === actions.length - 1)
            : await this.databaseSteps(snapshot, workflow, run, group, attempt, ctx, insert);
      } catch (error) {
        if (insert && !(await this.runs.insertStarted(run, insert))) return;
        const message = (error as Error).message;
        await this.runs.failStep(attempt, message);
        if (run.attempts >= MAX_RUN_ATTEMPTS) {
          await this.runs.setStatus(run.id, 'failed', {
            error: `Step ${attempt.step} (${attempt.action}) failed after ${run.attempts} attempts: ${message}`,
          });
          this.logger.error(`Workflow run ${run.id} (${run.workflow}) failed: ${message}`);
          return;
        }
        const resumeAt = new Date(Date.now() + RETRY_BASE_MS * 2 ** (run.attempts - 1));
        await this.runs.setStatus(run.id, 'queued', { error: `Step ${attempt.step} (${attempt.action}): ${message}`, resumeAt });
        this.wake(run.id, resumeAt);
        return;
      }
      insert = undefined;
      // Another delivery of this run is at it (or the event had its run already): that one carries on.
      if (outcome.kind === 'elsewhere' || outcome.kind === 'waiting') return;
      finished = outcome.finished;
      first = group[group.length - 1] + 1;
    }
    if (!finished) await this.runs.setStatus(run.id, 'completed', { error: null });
  }

  /**
   * Steps `group` (consecutive, database only) in one transaction, completed together by one statement at its end
   * (with the run's row, for a new run); the record is read once, and again only after a step that may have changed
   * it. `attempt` follows the step at hand, for the error.
   */
  private async databaseSteps(
    snapshot: MetadataSnapshot,
    workflow: CompiledWorkflow,
    run: RunRow,
    group: number[],
    attempt: StepAttempt,
    ctx: RequestContext,
    insert: string | undefined,
  ): Promise<GroupOutcome> {
    const actions = workflow.definition.actions;
    const done: StepDone[] = [];
    let then: RunNext = {};
    try {
      await this.records.write(ctx, async (writer) => {
        let record: Data | undefined;
        for (const step of group) {
          Object.assign(attempt, { step, action: actions[step].type, startedAt: new Date() });
          record ??= await loadRecord(writer, run);
          const effect = await this.perform({ workflow, run, snapshot, ctx, record }, writer, step, actions[step]);
          done.push({ ...attempt, result: effect.result, finishedAt: new Date() });
          const mailId = effect.mailId;
          if (mailId) writer.afterCommit(() => this.mailer.dispatch(mailId));
          record = effect.record;
          if (effect.resumeAt) {
            then = { status: 'waiting', resumeAt: effect.resumeAt };
            break;
          }
          if (step === actions.length - 1) then = { status: 'completed' };
        }
        const written = insert
          ? await this.runs.insertWithSteps(writer.tx, run, insert, done, then)
          : await this.runs.completeSteps(writer.tx, run.id, done, then);
        if (!written) throw new StepDoneElsewhere();
      });
    } catch (error) {
      if (error instanceof StepDoneElsewhere) return { kind: 'elsewhere' };
      throw error;
    }
    if (then.status === 'waiting') {
      this.wake(run.id, then.resumeAt!);
      return { kind: 'waiting' };
    }
    return { kind: 'done', finished: then.status === 'completed' };
  }

  /** A webhook step: the body is read in one transaction, the call made outside any, and the step completed after it. */
  private async webhookStep(
    snapshot: MetadataSnapshot,
    workflow: CompiledWorkflow,
    run: RunRow,
    attempt: StepAttempt,
    action: WebhookAction,
    ctx: RequestContext,
    last: boolean,
  ): Promise<GroupOutcome> {
    const deliveryId = `${run.id}:${attempt.step}`;
    const { body } = await this.records.write(ctx, async (writer) => {
      const scope = await this.scope(snapshot, workflow, run, ctx, writer);
      const value = action.body
        ? await evaluateExpression(scope, writer, action.body)
        : { workflow: run.workflow, run: run.id, record: scope.record, before: run.event.before ?? null, after: run.event.after ?? null };
      return { body: JSON.stringify(value ?? null) };
    });
    if (!this.config.webhookSecret) throw new Error('Webhooks are signed: set WEBHOOK_SECRET to send them.');
    const { status } = await postWebhook({
      url: action.url,
      body,
      deliveryId,
      event: `workflow.${run.workflow}`,
      secret: this.config.webhookSecret,
      timeoutMs: action.timeoutMs ?? 5000,
      allowedHosts: this.config.webhookAllowedHosts,
    });
    const done = await this.records.write(ctx, (writer) =>
      this.runs.completeSteps(
        writer.tx,
        run.id,
        [{ ...attempt, result: { status, deliveryId }, finishedAt: new Date() }],
        last ? { status: 'completed' } : {},
      ),
    );
    return done ? { kind: 'done', finished: last } : { kind: 'elsewhere' };
  }

  /**
   * What one database action does, inside the group's transaction. `record` in the answer is the triggering record
   * as the action left it, when that is known without reading it again (undefined: read it before the next step).
   */
  private async perform(scope: ActionScope, writer: RecordWriter, step: number, action: WorkflowAction): Promise<ActionEffect> {
    const { run, snapshot } = scope;
    const recordId = run.record_id!;
    // Actions that write only other records, or none, leave the triggering record as it was.
    const unchanged = (result: unknown): ActionEffect => ({ result, record: scope.record });
    switch (action.type) {
      case 'updateFields': {
        const values = await evaluateValues(scope, writer, action.values);
        const row = await writer.update(run.module, recordId, values);
        return { result: { updated: { module: run.module, id: row.id, version: row.version } }, record: toApiRecord(row) };
      }
      case 'createRecord': {
        const values = await evaluateValues(scope, writer, action.values);
        if (action.linkField) values[action.linkField] = recordId;
        const row = await writer.create(action.module, values);
        return unchanged({ created: { module: action.module, id: row.id, number: row.number } });
      }
      case 'updateLinkedRecord': {
        const target = scope.record[action.relation];
        if (typeof target !== 'string') return unchanged({ skipped: `no record in ${action.relation}` });
        const linkedModule = snapshot.module(run.module).fields.get(action.relation)!.module!;
        const values = await evaluateValues(scope, writer, action.values);
        const row = await writer.update(linkedModule, target, values);
        return { result: { updated: { module: linkedModule, id: row.id, version: row.version } } };
      }
      case 'updateRelatedRecords': {
        const updated: string[] = [];
        for (const id of await relatedIds(writer, action.module, action.relation, recordId)) {
          const target = toApiRecord((await writer.load(snapshot.module(action.module), id, true)) as RecordRow);
          const values = await evaluateValues(scope, writer, action.values, { target });
          await writer.update(action.module, id, values);
          updated.push(id);
        }
        return { result: { updated: { module: action.module, ids: updated } } };
      }
      case 'sendEmail': {
        const to = await resolveRecipients(scope, writer, action.to);
        const cc = await resolveRecipients(scope, writer, action.cc);
        if (to.length === 0) throw new Error('sendEmail: no recipient address (the fields are empty and the expression gave none)');
        const message = await this.mailer.queue(
          {
            to,
            cc,
            template: action.template,
            data: await templateData(scope, writer),
            lang: action.lang,
            idempotencyKey: `${run.id}:${step}`,
            record: { module: run.module, id: recordId },
            workflowRunId: run.id,
          },
          writer.tx,
        );
        return { ...unchanged({ mail: message.id, to }), mailId: message.id };
      }
      case 'runTool': {
        const params = action.params ? await evaluateValues(scope, writer, action.params) : {};
        const result = await this.tools.runIn(writer, run.module, recordId, action.tool, { params });
        return {
          result: {
            tool: action.tool,
            created: result.created.map((r) => ({ module: r.module, id: r.id, number: r.number })),
            updated: result.updated.map((r) => ({ module: r.module, id: r.id })),
          },
        };
      }
      case 'delay': {
        const resumeAt =
          action.seconds !== undefined
            ? new Date(Date.now() + action.seconds * 1000)
            : new Date(String(await evaluateExpression(scope, writer, action.until!)));
        if (Number.isNaN(resumeAt.getTime())) throw new Error('delay: "until" did not give a date-time');
        return { ...unchanged({ resumeAt: resumeAt.toISOString() }), resumeAt: resumeAt > new Date() ? resumeAt : undefined };
      }
      case 'webhook':
        throw new Error('A webhook step runs on its own (webhookStep), not in a group of database steps');
    }
  }

  private async scope(
    snapshot: MetadataSnapshot,
    workflow: CompiledWorkflow,
    run: RunRow,
    ctx: RequestContext,
    writer: RecordWriter,
  ): Promise<ActionScope> {
    return { workflow, run, snapshot, ctx, record: await loadRecord(writer, run) };
  }

  /** One tick of a scheduled workflow: a run for each record its filter selects, once per record and tick. */
  async tick(name: string): Promise<void> {
    const snapshot = this.registry.snapshot();
    const workflow = snapshot.workflows.get(name);
    if (!workflow?.definition.schedule || workflow.definition.enabled === false) return;
    const module = snapshot.module(workflow.definition.module);
    const tick = CronExpressionParser.parse(workflow.definition.schedule.cron, { tz: 'UTC', currentDate: new Date(Date.now() + 1000) })
      .prev()
      .toISOString();
    let sqlFilters: Array<[string, string]> = [];
    try {
      sqlFilters = conditionToFilters(workflow.definition.schedule.filter);
    } catch {
      // Not expressible as list filters (e.g. an expression): every record is tested in code below.
    }
    let cursor: string | undefined;
    do {
      const query: Array<[string, string]> = [...sqlFilters, ['limit', '200'], ['sort', 'createdAt']];
      if (cursor) query.push(['cursor', cursor]);
      const compiled = compileListQuery(module, query, RECORD_COLUMNS);
      const rows = await this.runs.db.query<RecordRow>(compiled.sql, compiled.params);
      const page = rows.slice(0, compiled.limit);
      for (const row of page) {
        if (workflow.filter && !(await workflow.filter.evaluate({ record: row.data, old: null, now: new Date() }))) continue;
        const runId = await this.runs.create({
          workflow: name,
          version: snapshot.version,
          module: module.name,
          recordId: row.id,
          trigger: 'schedule',
          event: { tick, after: row.data },
          causation: [],
          depth: 0,
          dedupeKey: `tick:${tick}:${row.id}`,
        });
        if (runId) await this.queue.enqueue('workflow.run', { runId }, `run:${runId}:0`);
      }
      cursor = rows.length > compiled.limit ? compiled.cursorAfter(page[page.length - 1]) : undefined;
    } while (cursor);
  }

  private async resumeDue(): Promise<void> {
    for (const run of await this.runs.dueRuns(100)) {
      await this.queue.enqueue('workflow.run', { runId: run.id }, `run:${run.id}:resume:${Math.floor(Date.now() / 10000)}`);
    }
  }

  /** Keeps one queue schedule per enabled scheduled workflow (the queue runs each tick once across processes). */
  private async syncSchedules(snapshot: MetadataSnapshot): Promise<void> {
    const wanted = new Map<string, string>();
    for (const workflow of snapshot.workflows.values()) {
      const { definition } = workflow;
      if (definition.trigger === 'schedule' && definition.enabled !== false && definition.schedule)
        wanted.set(definition.name, definition.schedule.cron);
    }
    for (const name of this.scheduled) {
      if (!wanted.has(name)) await this.queue.unschedule(`workflow:${name}`);
    }
    for (const [name, cron] of wanted) await this.queue.schedule(`workflow:${name}`, cron, 'workflow.tick', { workflow: name });
    this.scheduled = new Set(wanted.keys());
  }
}
