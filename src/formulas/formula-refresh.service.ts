import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { FORMULA_CONTEXT } from '../common/request-context';
import { DATABASE, type Database } from '../database/database';
import { JobRepository } from '../jobs/job.repository';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { JOB_QUEUE, type JobQueue } from '../queue/job-queue';
import { OutboxRelay } from '../queue/outbox.relay';
import { RecordService } from '../records/record.service';
import { sqlLiteral } from '../records/sql';
import { MAX_REFRESH_DEPTH, RECORD_CHANGED, type RecordChangedEvent } from './record-changed.event';

const BACKFILL_PAGE = 200;

/**
 * Keeps cross-record formulas fresh. After a record commits, its outbox event
 * names the records whose formulas read it (contacts of a changed account, the
 * account of a changed invoice), and each is recomputed through the same write
 * path as any save. When a module's formulas are published or changed, every
 * existing record is recomputed by a backfill job whose progress is visible.
 */
@Injectable()
export class FormulaRefreshService implements OnApplicationBootstrap {
  private readonly logger = new Logger('FormulaRefresh');

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordService,
    private readonly jobs: JobRepository,
    relay: OutboxRelay,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(DATABASE) private readonly db: Database,
  ) {
    relay.on(RECORD_CHANGED, (payload) => this.refresh(payload as RecordChangedEvent));
    queue.handle('formula.backfill', ({ jobId, module }) => this.backfill(jobId, module));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.registry.onSwap((snapshot, changed) => this.scheduleBackfills(snapshot, changed));
    for (const job of await this.jobs.unfinished('formula.backfill')) {
      await this.queue.enqueue('formula.backfill', { jobId: job.id, module: String(job.payload.module) }, `backfill:${job.id}`);
    }
    const snapshot = this.registry.snapshot();
    await this.scheduleBackfills(snapshot, [...snapshot.modules.keys()]);
  }

  /** Recomputes the records whose formulas read the changed record. */
  async refresh(event: RecordChangedEvent): Promise<void> {
    const snapshot = this.registry.snapshot();
    if (event.depth >= MAX_REFRESH_DEPTH) {
      this.logger.error(`Formula refresh stopped: the cascade from ${event.module} ${event.id} is deeper than ${MAX_REFRESH_DEPTH}`);
      return;
    }
    for (const { module, dependency } of snapshot.dependents.get(event.module) ?? []) {
      const targets =
        dependency.kind === 'related'
          ? await this.idsPointingAt(module, dependency.relation, event.id)
          : (event.relations[dependency.relation] ?? []).filter((id): id is string => typeof id === 'string');
      const ctx = { ...FORMULA_CONTEXT, causation: event.causation };
      for (const id of new Set(targets)) await this.records.recompute(ctx, module, id, event.depth + 1);
    }
  }

  private async idsPointingAt(module: string, relation: string, id: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM records WHERE module = ${sqlLiteral(module)} AND data @> jsonb_build_object(${sqlLiteral(relation)}, $1::text)`,
      [id],
    );
    return rows.map((r) => r.id);
  }

  /** A backfill per module whose formulas differ from those its records were last computed with (once across processes). */
  private async scheduleBackfills(snapshot: MetadataSnapshot, changed: readonly string[]): Promise<void> {
    for (const name of changed) {
      const module = snapshot.modules.get(name);
      if (!module) continue;
      const sources = [...module.formulas.record, ...[...module.formulas.lines.values()].flat()].map(
        (f) => `${f.lines ?? ''}.${f.field}=${f.source}`,
      );
      const signature = createHash('sha256').update(sources.join('\n')).digest('hex');
      const rows = await this.db.query(
        `INSERT INTO formula_states (module, signature) VALUES ($1, $2)
         ON CONFLICT (module) DO UPDATE SET signature = EXCLUDED.signature, updated_at = clock_timestamp()
          WHERE formula_states.signature <> EXCLUDED.signature
         RETURNING module`,
        [name, signature],
      );
      if (rows.length === 0 || sources.length === 0) continue;
      const jobId = await this.jobs.create('formula.backfill', { module: name });
      this.logger.log(`Formulas of ${name} changed: backfill job ${jobId}`);
      await this.queue.enqueue('formula.backfill', { jobId, module: name }, `backfill:${jobId}`);
    }
  }

  private async backfill(jobId: string, module: string): Promise<void> {
    const [{ n }] = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM records WHERE module = $1`, [module]);
    await this.jobs.start(jobId, Number(n));
    let done = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    try {
      for (;;) {
        const page = await this.db.query<{ id: string }>(
          `SELECT id::text AS id FROM records WHERE module = $1 AND id > $2::uuid ORDER BY id LIMIT ${BACKFILL_PAGE}`,
          [module, after],
        );
        for (const { id } of page) await this.records.recompute(FORMULA_CONTEXT, module, id, 0);
        done += page.length;
        await this.jobs.progress(jobId, done);
        if (page.length < BACKFILL_PAGE) break;
        after = page[page.length - 1].id;
      }
      await this.jobs.finish(jobId);
    } catch (error) {
      await this.jobs.finish(jobId, (error as Error).message);
      throw error;
    }
  }
}
