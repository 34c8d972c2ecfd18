import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DATABASE, type Database } from '../database/database';

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface JobView {
  id: string;
  type: string;
  status: JobStatus;
  payload: Record<string, unknown>;
  progress: { done?: number; total?: number };
  error: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface JobRow {
  id: string;
  type: string;
  status: JobStatus;
  payload: Record<string, unknown>;
  progress: JobView['progress'];
  error: string | null;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

/** All SQL for `jobs`: long-running background work with visible progress. */
@Injectable()
export class JobRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async create(type: string, payload: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await this.db.query(`INSERT INTO jobs (id, type, status, payload) VALUES ($1, $2, 'queued', $3::jsonb)`, [
      id,
      type,
      JSON.stringify(payload),
    ]);
    return id;
  }

  async start(id: string, total: number): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = clock_timestamp(), updated_at = clock_timestamp(),
              progress = jsonb_build_object('done', 0, 'total', $2::int), error = NULL WHERE id = $1`,
      [id, total],
    );
  }

  async progress(id: string, done: number): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET progress = progress || jsonb_build_object('done', $2::int), updated_at = clock_timestamp() WHERE id = $1`,
      [id, done],
    );
  }

  async finish(id: string, error?: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET status = $2, error = $3, finished_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = $1`,
      [id, error === undefined ? 'completed' : 'failed', error ?? null],
    );
  }

  async find(id: string): Promise<JobView | undefined> {
    const rows = await this.db.query<JobRow>(`SELECT * FROM jobs WHERE id = $1`, [id]);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  async list(filter: { status?: string; type?: string }, limit: number): Promise<JobView[]> {
    const rows = await this.db.query<JobRow>(
      `SELECT * FROM jobs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2) ORDER BY created_at DESC LIMIT $3`,
      [filter.status ?? null, filter.type ?? null, limit],
    );
    return rows.map(toView);
  }

  /** Jobs a stopped process left queued or running, to resume at start. */
  async unfinished(type: string): Promise<JobView[]> {
    const rows = await this.db.query<JobRow>(`SELECT * FROM jobs WHERE type = $1 AND status IN ('queued', 'running') ORDER BY created_at`, [
      type,
    ]);
    return rows.map(toView);
  }
}

function toView(row: JobRow): JobView {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    payload: row.payload,
    progress: row.progress,
    error: row.error,
    attempts: row.attempts,
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}
