import type { Database } from '../database/database';
import type { CompiledModule } from '../metadata/compiled-module';
import type { RecordData } from './record-input';
import { RECORD_COLUMNS, type Actor, type RecordRow } from './record.repository';
import { sqlLiteral } from './sql';

export interface OutboxEvent {
  topic: string;
  payload: unknown;
}

interface Pending {
  id: string;
  data: RecordData;
  actor: Actor;
  events: OutboxEvent[];
  resolve: (row: RecordRow) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 200;

/**
 * Gapless numbering holds a module's counter row locked from the insert until its
 * commit, so concurrent creates of one module commit one after another and each
 * waits for the previous one's WAL flush. This batcher turns that queue into
 * group commits: while one insert statement of a module is in flight, creates of
 * the same module wait here (not on the row lock), then go in together as one
 * statement that bumps the counter once by the batch size — numbers stay
 * consecutive and in arrival order, and each record's change log and outbox
 * events are written in the same statement. If a batch fails, its records are
 * retried one by one, so one bad record fails alone.
 */
export class RecordInsertBatcher {
  private readonly queues = new Map<string, { pending: Pending[]; flushing: boolean }>();
  private readonly statements = new WeakMap<CompiledModule, string>();

  constructor(private readonly db: Database) {}

  /** Whether this module's creates can take the batched path (autonumber fields have sequences of their own). */
  static supports(module: CompiledModule): boolean {
    return module.autonumberFields.length === 0;
  }

  insert(module: CompiledModule, id: string, data: RecordData, actor: Actor, events: OutboxEvent[]): Promise<RecordRow> {
    let queue = this.queues.get(module.name);
    if (!queue) this.queues.set(module.name, (queue = { pending: [], flushing: false }));
    const target = queue;
    return new Promise<RecordRow>((resolve, reject) => {
      target.pending.push({ id, data, actor, events, resolve, reject });
      if (!target.flushing) void this.flush(module, target);
    });
  }

  private async flush(module: CompiledModule, queue: { pending: Pending[]; flushing: boolean }): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_BATCH);
        try {
          this.settle(batch, await this.run(module, batch));
        } catch (error) {
          if (batch.length === 1) batch[0].reject(error);
          else for (const item of batch) await this.run(module, [item]).then((rows) => this.settle([item], rows), item.reject);
        }
      }
    } finally {
      queue.flushing = false;
    }
  }

  private settle(batch: Pending[], rows: RecordRow[]): void {
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const item of batch) {
      const row = byId.get(item.id);
      if (row) item.resolve(row);
      else item.reject(new Error(`The insert of record ${item.id} returned no row`));
    }
  }

  private run(module: CompiledModule, batch: Pending[]): Promise<RecordRow[]> {
    const input = batch.map((item, i) => ({
      ord: i + 1,
      id: item.id,
      data: item.data,
      actor_id: item.actor.id,
      actor_name: item.actor.name,
      source: item.actor.source,
      events: item.events,
    }));
    return this.db.query<RecordRow>(this.statement(module), [
      JSON.stringify(input),
      batch.length,
      module.numbering.prefix,
      module.numbering.padding,
      module.trackedFields,
    ]);
  }

  private statement(module: CompiledModule): string {
    const cached = this.statements.get(module);
    if (cached) return cached;
    const m = sqlLiteral(module.name);
    const value = `(seq.last_value - $2::bigint + input.ord)::text`;
    const sql = `WITH input AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb)
          AS x(ord int, id uuid, data jsonb, actor_id text, actor_name text, source text, events jsonb)),
      seq AS (
        INSERT INTO number_sequences AS s (module, sequence, last_value) VALUES (${m}, 'number', $2::bigint)
        ON CONFLICT (module, sequence) DO UPDATE SET last_value = s.last_value + $2::bigint
        RETURNING last_value),
      rec AS (
        INSERT INTO records (id, module, number, data, owner_id, created_by)
        SELECT input.id, ${m},
               $3::text || CASE WHEN length(${value}) >= $4::int THEN ${value} ELSE lpad(${value}, $4::int, '0') END,
               input.data, input.actor_id, input.actor_id
          FROM input, seq ORDER BY input.ord
        RETURNING ${RECORD_COLUMNS}),
      log AS (
        INSERT INTO field_changes (record_id, module, field, old_value, new_value, actor_id, actor_name, source)
        SELECT rec.id, rec.module, c.key, NULL, c.value, input.actor_id, input.actor_name, input.source
          FROM rec JOIN input ON input.id = rec.id, jsonb_each(rec.data) AS c
         WHERE c.key = ANY($5::text[])),
      out AS (
        INSERT INTO outbox (topic, payload)
        SELECT e->>'topic', e->'payload' FROM input, jsonb_array_elements(input.events) AS e ORDER BY input.ord)
      SELECT * FROM rec`;
    this.statements.set(module, sql);
    return sql;
  }
}
