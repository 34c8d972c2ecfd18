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

/** All SQL for the run log: `workflow_runs` and `workflow_steps`. */
@Injectable()
export class WorkflowRunRepository {
  constructor(@Inject(DATABASE) readonly db: Database) {}

  /** Creates the run unless one exists for this workflow and event; returns the new run's id, or undefined. */
  async create(run: NewRun): Promise<string | undefined> {
    const rows = await this.db.query<{ id: string }>(
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

  async find(executor: SqlExecutor, id: string, lock = false): Promise<RunRow | undefined> {
    const rows = await executor.query<RunRow>(`SELECT * FROM workflow_runs WHERE id = $1::uuid${lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0];
  }

  async steps(runIds: string[]): Promise<StepRow[]> {
    if (runIds.length === 0) return [];
    return this.db.query<StepRow>(`SELECT * FROM workflow_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, step`, [runIds]);
  }

  async step(executor: SqlExecutor, runId: string, step: number): Promise<StepRow | undefined> {
    const rows = await executor.query<StepRow>(`SELECT * FROM workflow_steps WHERE run_id = $1::uuid AND step = $2`, [runId, step]);
    return rows[0];
  }

  async startStep(runId: string, step: number, action: string): Promise<void> {
    await this.db.query(
      `INSERT INTO workflow_steps (run_id, step, action, status, attempts, started_at) VALUES ($1, $2, $3, 'running', 1, clock_timestamp())
       ON CONFLICT (run_id, step) DO UPDATE SET status = 'running', attempts = workflow_steps.attempts + 1, error = NULL, started_at = clock_timestamp()
       WHERE workflow_steps.status <> 'completed'`,
      [runId, step, action],
    );
  }

  /** Marks a step done and moves the run on; in the caller's transaction, beside the step's own writes. */
  async completeStep(executor: SqlExecutor, runId: string, step: number, result: unknown): Promise<void> {
    await executor.query(
      `UPDATE workflow_steps SET status = 'completed', result = $3::jsonb, error = NULL, finished_at = clock_timestamp() WHERE run_id = $1::uuid AND step = $2`,
      [runId, step, JSON.stringify(result ?? null)],
    );
    await executor.query(`UPDATE workflow_runs SET next_step = $2 + 1, updated_at = clock_timestamp() WHERE id = $1::uuid`, [runId, step]);
  }

  async failStep(runId: string, step: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE workflow_steps SET status = 'failed', error = $3, finished_at = clock_timestamp() WHERE run_id = $1::uuid AND step = $2`,
      [runId, step, error.slice(0, 4000)],
    );
  }

  async setStatus(
    id: string,
    status: RunStatus,
    fields: { error?: string | null; resumeAt?: Date | null; attempt?: boolean } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE workflow_runs SET status = $2, updated_at = clock_timestamp(),
              error = CASE WHEN $3::boolean THEN $4 ELSE error END,
              resume_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE resume_at END,
              attempts = attempts + CASE WHEN $7::boolean THEN 1 ELSE 0 END,
              started_at = COALESCE(started_at, CASE WHEN $2 = 'running' THEN clock_timestamp() END),
              finished_at = CASE WHEN $2 IN ('completed', 'failed', 'stopped') THEN clock_timestamp() ELSE NULL END
        WHERE id = $1::uuid`,
      [
        id,
        status,
        fields.error !== undefined,
        fields.error ?? null,
        fields.resumeAt !== undefined,
        fields.resumeAt ?? null,
        fields.attempt === true,
      ],
    );
  }

  /** Puts a failed run back in the queue: attempts start again, completed steps stay completed. */
  async resetForRetry(id: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE workflow_runs SET status = 'queued', attempts = 0, error = NULL, finished_at = NULL, updated_at = clock_timestamp()
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

  /** Runs to (re)start: delays that are due, and runs a stopped process left queued or running. */
  dueRuns(limit: number): Promise<Array<{ id: string; status: RunStatus }>> {
    return this.db.query(
      `SELECT id::text AS id, status FROM workflow_runs
        WHERE (status = 'waiting' AND resume_at <= clock_timestamp())
           OR (status IN ('queued', 'running') AND updated_at < clock_timestamp() - interval '30 seconds')
        ORDER BY created_at LIMIT $1`,
      [limit],
    );
  }
}
