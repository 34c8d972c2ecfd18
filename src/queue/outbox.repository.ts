import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, type Database, type SqlExecutor } from '../database/database';

/** An event as the relay hands it to the queue. */
export interface OutboxEvent {
  id: string;
  topic: string;
  payload: unknown;
}

export interface OutboxRow {
  id: string;
  topic: string;
  payload: unknown;
  attempts: number;
}

/** After this many failed attempts an event stays in the outbox with its last error, for an operator. */
export const MAX_OUTBOX_ATTEMPTS = 10;
const LEASE_SECONDS = 30;

/** All SQL for the outbox: events are written in the saving transaction and handled after commit. */
@Injectable()
export class OutboxRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async add(executor: SqlExecutor, topic: string, payload: unknown): Promise<void> {
    await executor.query('INSERT INTO outbox (topic, payload) VALUES ($1, $2::jsonb)', [topic, JSON.stringify(payload)]);
  }

  /** Leases a batch of pending events to this process (SKIP LOCKED: concurrent relays take different rows). */
  async lease(limit = 100): Promise<OutboxEvent[]> {
    return this.db.query<OutboxEvent>(
      `UPDATE outbox SET leased_until = clock_timestamp() + interval '${LEASE_SECONDS} seconds'
        WHERE id IN (SELECT id FROM outbox
                      WHERE attempts < ${MAX_OUTBOX_ATTEMPTS}
                        AND (leased_until IS NULL OR leased_until < clock_timestamp())
                      ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, topic, payload`,
    );
  }

  async find(id: string): Promise<OutboxRow | undefined> {
    const rows = await this.db.query<OutboxRow>('SELECT id::text AS id, topic, payload, attempts FROM outbox WHERE id = $1::bigint', [id]);
    return rows[0];
  }

  /**
   * Handled events are deleted: the table holds only work in hand, so leasing stays an index probe however many
   * events went before (a kept row would be a dead index entry to skip until vacuum). What the events caused is
   * kept where it belongs: the change log, the workflow runs, the jobs.
   */
  async deleteHandled(ids: readonly string[]): Promise<void> {
    await this.db.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2, leased_until = NULL WHERE id = $1::bigint', [
      id,
      error.slice(0, 2000),
    ]);
  }
}
