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
import { WorkflowRunRepository, type NewRun, type RunRow } from './workflow-run.repository';
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

/** How a step ended: 'done' (go on), 'finished' (it was the last: the run is completed), 'waiting' (a delay). */
type StepOutcome = 'done' | 'finished' | 'waiting';

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
    const started: RunRow[] = [];
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
      const row = await this.runs.start(run);
      if (row) started.push(row);
    }
    for (const run of started) {
      try {
        await this.execute(run, new Set());
      } catch (error) {
        // The bookkeeping itself failed (the database, say): the queue tries the run again.
        this.logger.warn(`Workflow run ${run.id} (${run.workflow}) goes back to the queue: ${(error as Error).message}`);
        await this.queue.enqueue('workflow.run', { runId: run.id }, `run:${run.id}:0`);
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
   * One attempt at a claimed run, from its next step. A step that fails leaves the run `queued` for a retry after
   * an exponential backoff (the poll, or a timer here, hands it to the queue), or `failed` after the last attempt.
   */
  private async execute(run: RunRow, completed: ReadonlySet<number>): Promise<void> {
    const snapshot = this.registry.snapshot();
    const workflow = snapshot.workflows.get(run.workflow);
    if (!workflow) {
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
    let finished = false;
    for (let step = run.next_step; step < actions.length; step++) {
      if (completed.has(step)) continue;
      const action = actions[step];
      const attempt = { runId: run.id, step, action: action.type, startedAt: new Date() };
      let outcome: StepOutcome;
      try {
        outcome = await this.execute1(snapshot, workflow, run, attempt, action, ctx, step === actions.length - 1);
      } catch (error) {
        const message = (error as Error).message;
        await this.runs.failStep(attempt, message);
        if (run.attempts >= MAX_RUN_ATTEMPTS) {
          await this.runs.setStatus(run.id, 'failed', {
            error: `Step ${step} (${action.type}) failed after ${run.attempts} attempts: ${message}`,
          });
          this.logger.error(`Workflow run ${run.id} (${run.workflow}) failed: ${message}`);
          return;
        }
        const resumeAt = new Date(Date.now() + RETRY_BASE_MS * 2 ** (run.attempts - 1));
        await this.runs.setStatus(run.id, 'queued', { error: `Step ${step} (${action.type}): ${message}`, resumeAt });
        this.wake(run.id, resumeAt);
        return;
      }
      if (outcome === 'waiting') return;
      finished = outcome === 'finished';
    }
    if (!finished) await this.runs.setStatus(run.id, 'completed', { error: null });
  }

  /**
   * One action. Its writes and the step's completion commit together — and the run's completion with the last
   * step. 'done' when the step was done by another delivery of the run (nothing of this attempt is kept).
   */
  private async execute1(
    snapshot: MetadataSnapshot,
    workflow: CompiledWorkflow,
    run: RunRow,
    attempt: { runId: string; step: number; action: string; startedAt: Date },
    action: WorkflowAction,
    ctx: RequestContext,
    last: boolean,
  ): Promise<StepOutcome> {
    let mailId: string | undefined;
    let outcome = (last ? 'finished' : 'done') as StepOutcome;
    let wakeAt: Date | undefined;
    const complete = async (writer: RecordWriter, result: unknown, resumeAt?: Date) => {
      if (resumeAt) [outcome, wakeAt] = ['waiting', resumeAt];
      const then = resumeAt ? { status: 'waiting' as const, resumeAt } : last ? { status: 'completed' as const } : {};
      if (!(await this.runs.completeStep(writer.tx, { ...attempt, result }, then))) throw new StepDoneElsewhere();
    };
    const write = async (work: (writer: RecordWriter) => Promise<void>): Promise<void> => {
      try {
        await this.records.write(ctx, work);
      } catch (error) {
        if (!(error instanceof StepDoneElsewhere)) throw error;
        outcome = 'done';
      }
    };
    const step = attempt.step;
    if (action.type === 'webhook') {
      // The call leaves the database: it carries a delivery id that stays the same on every retry.
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
        deliveryId: `${run.id}:${step}`,
        event: `workflow.${run.workflow}`,
        secret: this.config.webhookSecret,
        timeoutMs: action.timeoutMs ?? 5000,
        allowedHosts: this.config.webhookAllowedHosts,
      });
      await write((writer) => complete(writer, { status, deliveryId: `${run.id}:${step}` }));
      return outcome;
    }
    await write(async (writer) => {
      const scope = await this.scope(snapshot, workflow, run, ctx, writer);
      const recordId = run.record_id!;
      switch (action.type) {
        case 'updateFields': {
          const values = await evaluateValues(scope, writer, action.values);
          const row = await writer.update(run.module, recordId, values);
          return complete(writer, { updated: { module: run.module, id: row.id, version: row.version } });
        }
        case 'createRecord': {
          const values = await evaluateValues(scope, writer, action.values);
          if (action.linkField) values[action.linkField] = recordId;
          const row = await writer.create(action.module, values);
          return complete(writer, { created: { module: action.module, id: row.id, number: row.number } });
        }
        case 'updateLinkedRecord': {
          const target = scope.record[action.relation];
          if (typeof target !== 'string') return complete(writer, { skipped: `no record in ${action.relation}` });
          const linkedModule = snapshot.module(run.module).fields.get(action.relation)!.module!;
          const values = await evaluateValues(scope, writer, action.values);
          const row = await writer.update(linkedModule, target, values);
          return complete(writer, { updated: { module: linkedModule, id: row.id, version: row.version } });
        }
        case 'updateRelatedRecords': {
          const updated: string[] = [];
          for (const id of await relatedIds(writer, action.module, action.relation, recordId)) {
            const target = toApiRecord((await writer.load(snapshot.module(action.module), id, true)) as RecordRow);
            const values = await evaluateValues(scope, writer, action.values, { target });
            await writer.update(action.module, id, values);
            updated.push(id);
          }
          return complete(writer, { updated: { module: action.module, ids: updated } });
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
          mailId = message.id;
          return complete(writer, { mail: message.id, to });
        }
        case 'runTool': {
          const params = action.params ? await evaluateValues(scope, writer, action.params) : {};
          const result = await this.tools.runIn(writer, run.module, recordId, action.tool, { params });
          return complete(writer, {
            tool: action.tool,
            created: result.created.map((r) => ({ module: r.module, id: r.id, number: r.number })),
            updated: result.updated.map((r) => ({ module: r.module, id: r.id })),
          });
        }
        case 'delay': {
          const resumeAt =
            action.seconds !== undefined
              ? new Date(Date.now() + action.seconds * 1000)
              : new Date(String(await evaluateExpression(scope, writer, action.until!)));
          if (Number.isNaN(resumeAt.getTime())) throw new Error('delay: "until" did not give a date-time');
          const result = { resumeAt: resumeAt.toISOString() };
          return resumeAt > new Date() ? complete(writer, result, resumeAt) : complete(writer, result);
        }
      }
    });
    if (mailId && outcome !== 'done') await this.mailer.dispatch(mailId);
    if (outcome === 'waiting' && wakeAt) this.wake(run.id, wakeAt);
    return outcome;
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
