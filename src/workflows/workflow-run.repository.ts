import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DATABASE, type Database, type SqlExecutor } from '../database/database';
import type { CausationLink } from './workflow.types';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'stopped';

export interface RunRow {
  id: string;
  workflow: string;
  workflow_version: number;
  module: string;
  record_id: string | null;
  trigger: string;
  status: RunStatus;
  event: { before?: Record<string, unknown> | null; after?: Record<string, unknown> | null; [key: string]: unknown };
  causation: CausationLink[];
  depth: number;
  next_step: number;
  resume_at: Date | null;
  attempts: number;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepRow {
  run_id: string;
  step: number;
  action: string;
  status: 'running' | 'completed' | 'failed';
  attempts: number;
  result: unknown;
  error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface NewRun {
  workflow: string;
  version: number;
  module: string;
  recordId: string | null;
  trigger: string;
  event: Record<string, unknown>;
  causation: CausationLink[];
  depth: number;
  dedupeKey: string;
  status?: RunStatus;
  error?: string;
}

/** A queued or running run that has not moved for this long was left by a process that stopped: the poll takes it up. */
const STALE_SECONDS = 30;

/** A step done, as the run log records it. */
export interface StepDone {
  step: number;
  action: string;
  result: unknown;
  startedAt: Date;
  finishedAt: Date;
}

/** What becomes of a run after steps are done: nothing (more steps follow), `completed`, or `waiting` until `resumeAt`. */
export interface RunNext {
  status?: 'completed' | 'waiting';
  resumeAt?: Date;
}

const STEPS_FROM_JSON = `jsonb_to_recordset($2::jsonb) AS s(step int, action text, result jsonb, started_at timestamptz, finished_at timestamptz)`;

const stepsJson = (steps: readonly StepDone[]) =>
  JSON.stringify(
    steps.map((s) => ({
      step: s.step,
      action: s.action,
      result: s.result ?? null,
      started_at: s.startedAt.toISOString(),
      finished_at: s.finishedAt.toISOString(),
    })),
  );

/** $1–$10 of the statements that write a started run: its columns from id to dedupe_key. */
const startedRunParams = (row: RunRow, dedupeKey: string): unknown[] => [
  row.id,
  row.workflow,
  row.workflow_version,
  row.module,
  row.record_id,
  row.trigger,
  JSON.stringify(row.event),
  JSON.stringify(row.causation),
  row.depth,
  dedupeKey,
];

/** All SQL for the run log: `workflow_runs` and `workflow_steps`. */
@Injectable()
export class WorkflowRunRepository {
  constructor(@Inject(DATABASE) readonly db: Database) {}

  /**
   * Creates the run unless one exists for this workflow and event; returns the new run's id, or undefined. Pass
   * the caller's transaction as `executor` to create it beside the change that asks for it.
   */
  async create(run: NewRun, executor: SqlExecutor = this.db): Promise<string | undefined> {
    const rows = await executor.query<{ id: string }>(
      `INSERT INTO workflow_runs (id, workflow, workflow_version, module, record_id, trigger, status, event, causation, depth, dedupe_key, error, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, CASE WHEN $7 IN ('stopped', 'completed') THEN clock_timestamp() END)
       ON CONFLICT (workflow, dedupe_key) DO NOTHING RETURNING id::text AS id`,
      [
        randomUUID(),
        run.workflow,
        run.version,
        run.module,
        run.recordId,
        run.trigger,
        run.status ?? 'queued',
        JSON.stringify(run.event),
        JSON.stringify(run.causation),
        run.depth,
        run.dedupeKey,
        run.error ?? null,
      ],
    );
    return rows[0]?.id;
  }

  /** The row of a run this process starts at once (`running`, its first attempt), not yet written. */
  plan(run: NewRun): RunRow {
    const now = new Date();
    return {
      id: randomUUID(),
      workflow: run.workflow,
      workflow_version: run.version,
      module: run.module,
      record_id: run.recordId,
      trigger: run.trigger,
      status: 'running',
      event: run.event,
      causation: run.causation,
      depth: run.depth,
      next_step: 0,
      resume_at: null,
      attempts: 1,
      error: null,
      created_at: now,
      started_at: now,
      finished_at: null,
    };
  }

  /**
   * Writes a planned run (see {@link plan}) on its own, before its first steps (a webhook's delivery id must outlive
   * a crash) or to record what befell them; false when the workflow has a run for this event already. Otherwise a
   * new run is written with its first steps' completion ({@link insertWithSteps}).
   */
  async insertStarted(row: RunRow, dedupeKey: string): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO workflow_runs (id, workflow, workflow_version, module, record_id, trigger, status, event, causation, depth, dedupe_key, attempts, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'running', $7::jsonb, $8::jsonb, $9, $10, 1, clock_timestamp())
       ON CONFLICT (workflow, dedupe_key) DO NOTHING RETURNING id`,
      startedRunParams(row, dedupeKey),
    );
    return rows.length > 0;
  }

  /**
   * Claims a run for one attempt: `running`, attempts + 1. Undefined when it is finished, waiting for a time that
   * has not come (a delay, or the backoff before a retry), or running elsewhere — the wake-up timer and the poll
   * may both hand a due run to the queue, and only one of them may take it. A `running` run that has not moved for
   * STALE_SECONDS is claimed again: its process stopped mid-run (steps done already are not repeated).
   */
  async claim(id: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(
      `UPDATE workflow_runs SET status = 'running', attempts = attempts + 1, resume_at = NULL, updated_at = clock_timestamp(),
              started_at = COALESCE(started_at, clock_timestamp())
        WHERE id = $1::uuid
          AND ((status IN ('queued', 'waiting') AND (resume_at IS NULL OR resume_at <= clock_timestamp()))
               OR (status = 'running' AND updated_at < clock_timestamp() - interval '${STALE_SECONDS} seconds'))
        RETURNING *`,
      [id],
    );
    return rows[0];
  }

  async find(id: string): Promise<RunRow | undefined> {
    const rows = await this.db.query<RunRow>(`SELECT * FROM workflow_runs WHERE id = $1::uuid`, [id]);
    return rows[0];
  }

  async steps(runIds: string[]): Promise<StepRow[]> {
    if (runIds.length === 0) return [];
    return this.db.query<StepRow>(`SELECT * FROM workflow_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, step`, [runIds]);
  }

  /** The steps of a run that are done. */
  async completedSteps(runId: string): Promise<Set<number>> {
    const rows = await this.db.query<{ step: number }>(`SELECT step FROM workflow_steps WHERE run_id = $1::uuid AND status = 'completed'`, [
      runId,
    ]);
    return new Set(rows.map((r) => r.step));
  }

  /**
   * Records steps as done and moves the run on past the last of them, in the caller's transaction beside the
   * steps' own writes — one statement. `then` finishes the run (`completed`) or parks it until `resumeAt`
   * (`waiting`). Returns false when a step was done already (another delivery of the run did it): the caller must
   * roll back. Two deliveries racing on one step meet at the step's primary key, so only one of them commits.
   */
  async completeSteps(executor: SqlExecutor, runId: string, steps: readonly StepDone[], then: RunNext = {}): Promise<boolean> {
    const rows = await executor.query<{ n: number }>(
      `WITH done AS (
         INSERT INTO workflow_steps (run_id, step, action, status, attempts, result, started_at, finished_at)
         SELECT $1::uuid, s.step, s.action, 'completed', 1, s.result, s.started_at, s.finished_at FROM ${STEPS_FROM_JSON}
         ON CONFLICT (run_id, step) DO UPDATE SET status = 'completed', attempts = workflow_steps.attempts + 1, result = EXCLUDED.result,
                    error = NULL, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at
          WHERE workflow_steps.status <> 'completed'
         RETURNING step),
       moved AS (
         UPDATE workflow_runs r SET next_step = $3 + 1, updated_at = clock_timestamp(), status = COALESCE($4, r.status), resume_at = $5::timestamptz,
                error = CASE WHEN $4 = 'completed' THEN NULL ELSE r.error END,
                finished_at = CASE WHEN $4 = 'completed' THEN clock_timestamp() ELSE r.finished_at END
          WHERE r.id = $1::uuid AND (SELECT count(*) FROM done) = $6
          RETURNING r.id)
       SELECT (SELECT count(*) FROM moved)::int AS n`,
      [runId, stepsJson(steps), steps[steps.length - 1].step, then.status ?? null, then.resumeAt?.toISOString() ?? null, steps.length],
    );
    return rows[0].n === 1;
  }

  /**
   * Writes a new run (see {@link plan}) with its first steps done, beside their writes — one statement. False when
   * the workflow has a run for this event already (the caller must roll back).
   */
  async insertWithSteps(
    executor: SqlExecutor,
    row: RunRow,
    dedupeKey: string,
    steps: readonly StepDone[],
    then: RunNext = {},
  ): Promise<boolean> {
    const rows = await executor.query(
      `WITH run AS (
         INSERT INTO workflow_runs (id, workflow, workflow_version, module, record_id, trigger, status, event, causation, depth, dedupe_key,
                                    attempts, next_step, resume_at, created_at, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, COALESCE($12, 'running'), $7::jsonb, $8::jsonb, $9, $10, 1, $11 + 1, $13::timestamptz,
                 $14::timestamptz, $14::timestamptz, CASE WHEN $12 = 'completed' THEN clock_timestamp() END)
         ON CONFLICT (workflow, dedupe_key) DO NOTHING RETURNING id)
       INSERT INTO workflow_steps (run_id, step, action, status, attempts, result, started_at, finished_at)
       SELECT run.id, s.step, s.action, 'completed', 1, s.result, s.started_at, s.finished_at FROM run, ${STEPS_FROM_JSON.replace('$2', '$15')}
       RETURNING step`,
      [
        ...startedRunParams(row, dedupeKey),
        steps[steps.length - 1].step,
        then.status ?? null,
        then.resumeAt?.toISOString() ?? null,
        row.started_at?.toISOString() ?? new Date().toISOString(),
        stepsJson(steps),
      ],
    );
    return rows.length === steps.length;
  }

  /** Records a failed attempt at a step. */
  async failStep(step: { runId: string; step: number; action: string; startedAt: Date }, error: string): Promise<void> {
    await this.db.query(
      `INSERT INTO workflow_steps (run_id, step, action, status, attempts, error, started_at, finished_at)
       VALUES ($1::uuid, $2, $3, 'failed', 1, $4, $5::timestamptz, clock_timestamp())
       ON CONFLICT (run_id, step) DO UPDATE SET status = 'failed', attempts = workflow_steps.attempts + 1, error = EXCLUDED.error,
                  started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at
        WHERE workflow_steps.status <> 'completed'`,
      [step.runId, step.step, step.action, error.slice(0, 4000), step.startedAt.toISOString()],
    );
  }

  async setStatus(id: string, status: RunStatus, fields: { error?: string | null; resumeAt?: Date | null } = {}): Promise<void> {
    await this.db.query(
      `UPDATE workflow_runs SET status = $2, updated_at = clock_timestamp(),
              error = CASE WHEN $3::boolean THEN $4 ELSE error END,
              resume_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE resume_at END,
              finished_at = CASE WHEN $2 IN ('completed', 'failed', 'stopped') THEN clock_timestamp() ELSE NULL END
        WHERE id = $1::uuid`,
      [id, status, fields.error !== undefined, fields.error ?? null, fields.resumeAt !== undefined, fields.resumeAt ?? null],
    );
  }

  /** Puts a failed run back in the queue: attempts start again, completed steps stay completed. */
  async resetForRetry(id: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE workflow_runs SET status = 'queued', attempts = 0, error = NULL, resume_at = NULL, finished_at = NULL, updated_at = clock_timestamp()
        WHERE id = $1::uuid AND status IN ('failed', 'stopped') RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  forRecord(recordId: string, limit: number): Promise<RunRow[]> {
    return this.db.query<RunRow>(`SELECT * FROM workflow_runs WHERE record_id = $1::uuid ORDER BY created_at DESC, id LIMIT $2`, [
      recordId,
      limit,
    ]);
  }

  list(filter: { status?: string; workflow?: string }, limit: number): Promise<RunRow[]> {
    return this.db.query<RunRow>(
      `SELECT * FROM workflow_runs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR workflow = $2) ORDER BY created_at DESC, id LIMIT $3`,
      [filter.status ?? null, filter.workflow ?? null, limit],
    );
  }

  /** Runs to (re)start: delays and retries that are due, and runs a stopped process left queued or running. */
  dueRuns(limit: number): Promise<Array<{ id: string; status: RunStatus }>> {
    return this.db.query(
      `SELECT id::text AS id, status FROM workflow_runs
        WHERE (status IN ('waiting', 'queued') AND resume_at <= clock_timestamp())
           OR (status IN ('queued', 'running') AND resume_at IS NULL AND updated_at < clock_timestamp() - interval '${STALE_SECONDS} seconds')
        ORDER BY created_at LIMIT $1`,
      [limit],
    );
  }
}
