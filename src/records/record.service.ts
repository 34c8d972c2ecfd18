import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/permission.policy';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { OutboxRepository } from '../queue/outbox.repository';
import { OutboxRelay } from '../queue/outbox.relay';
import { compileListQuery, DEFAULT_LIMIT, MAX_LIMIT } from './record-query.compiler';
import { RECORD_COLUMNS, RecordRepository } from './record.repository';
import { toApiRecord, toHistoryEntry, type ApiRecord, type HistoryEntry } from './record.view';
import { RecordWriter } from './record.writer';
import { RecordInsertBatcher } from './record-insert.batcher';

export interface Page<T> {
  data: T[];
  page: { limit: number; nextCursor: string | null };
}

/**
 * Generic records: one code path for every module. Reads and lists are here;
 * every write goes through a {@link RecordWriter} in one transaction.
 */
@Injectable()
export class RecordService {
  private readonly logger = new Logger('Records');
  private readonly batcher: RecordInsertBatcher;

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
  ) {
    this.batcher = new RecordInsertBatcher(records.db);
  }

  /**
   * Runs `work` in one transaction with a {@link RecordWriter}; after commit the
   * outbox relay is woken for the events the writes left, and what the writer was
   * asked to do after the commit is done. Workflows use this to make a step's
   * writes and its completion one atomic unit.
   */
  async write<T>(ctx: RequestContext, work: (writer: RecordWriter) => Promise<T>): Promise<T> {
    const snapshot = this.registry.snapshot();
    const touched = new Set<string>();
    let writer: RecordWriter | undefined;
    const result = await this.records.db.transaction((tx) => {
      writer = new RecordWriter(tx, ctx, snapshot, this.records, this.outbox, touched);
      return work(writer);
    });
    if (touched.size > 0) this.relay.kick();
    for (const afterCommit of writer?.committed ?? []) {
      // Committed all the same: what this hands on is picked up again by its poll.
      await afterCommit().catch((error: Error) => this.logger.warn(`After a commit: ${error.message}`));
    }
    return result;
  }

  async create(ctx: RequestContext, moduleName: string, body: unknown): Promise<ApiRecord> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    if (RecordInsertBatcher.supports(module)) {
      // A record that points at no other record needs no transaction: it is one (batched) statement.
      const touched = new Set<string>();
      const writer = new RecordWriter(this.records.db, ctx, snapshot, this.records, this.outbox, touched);
      const row = await writer.createBatched(moduleName, body, this.batcher);
      if (row) {
        if (touched.size > 0) this.relay.kick();
        return toApiRecord(row);
      }
    }
    return toApiRecord(await this.write(ctx, (writer) => writer.create(moduleName, body)));
  }

  async get(ctx: RequestContext, moduleName: string, id: string): Promise<ApiRecord> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    return toApiRecord(await new RecordWriter(this.records.db, ctx, snapshot, this.records, this.outbox).load(module, id));
  }

  /** Merges `body` into the record (null clears a field); `ifMatch` is the version the client last saw. */
  async update(ctx: RequestContext, moduleName: string, id: string, body: unknown, ifMatch?: string): Promise<ApiRecord> {
    const expected = parseIfMatch(ifMatch);
    return toApiRecord(await this.write(ctx, (writer) => writer.update(moduleName, id, body, expected)));
  }

  /** Recomputes one record's formulas (the formula refresh and backfill); true when something changed. */
  recompute(ctx: RequestContext, moduleName: string, id: string, depth: number): Promise<boolean> {
    return this.write(ctx, (writer) => writer.recompute(moduleName, id, depth));
  }

  async delete(ctx: RequestContext, moduleName: string, id: string, ifMatch?: string): Promise<void> {
    const expected = parseIfMatch(ifMatch);
    await this.write(ctx, (writer) => writer.delete(moduleName, id, expected));
  }

  async setArchived(ctx: RequestContext, moduleName: string, id: string, archived: boolean): Promise<ApiRecord> {
    return toApiRecord(await this.write(ctx, (writer) => writer.setArchived(moduleName, id, archived)));
  }

  async list(ctx: RequestContext, moduleName: string, query: Array<[string, string]>): Promise<Page<Partial<ApiRecord>>> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    const compiled = compileListQuery(module, query, RECORD_COLUMNS);
    const rows = await this.records.list(compiled.sql, compiled.params);
    const page = rows.slice(0, compiled.limit);
    const nextCursor = rows.length > compiled.limit ? compiled.cursorAfter(page[page.length - 1]) : null;
    return { data: page.map((row) => project(toApiRecord(row), compiled.fields)), page: { limit: compiled.limit, nextCursor } };
  }

  async history(ctx: RequestContext, moduleName: string, id: string, query: Array<[string, string]>): Promise<Page<HistoryEntry>> {
    await this.get(ctx, moduleName, id);
    const params = new Map(query);
    const unknown = [...params.keys()].filter((k) => k !== 'limit' && k !== 'cursor');
    if (unknown.length > 0)
      throw new AppException(
        'bad_request',
        'unknown_parameter',
        `Unknown query parameter(s): ${unknown.join(', ')}; use limit and cursor.`,
      );
    const limitText = params.get('limit');
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new AppException('bad_request', 'invalid_query', `limit must be an integer from 1 to ${MAX_LIMIT}.`, [
        { field: 'limit', code: 'invalid_value', message: 'out of range' },
      ]);
    }
    const cursor = params.get('cursor');
    if (cursor !== undefined && !/^[1-9][0-9]{0,17}$/.test(cursor)) {
      throw new AppException('bad_request', 'invalid_cursor', 'The cursor is not valid; start again without one.');
    }
    const rows = await this.records.history(id, cursor, limit);
    const page = rows.slice(0, limit);
    return { data: page.map(toHistoryEntry), page: { limit, nextCursor: rows.length > limit ? page[page.length - 1].id : null } };
  }
}

/** Accepts `"3"`, `W/"3"` or `3`; a malformed header is a 400, not a silent overwrite. */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new AppException('bad_request', 'invalid_if_match', `If-Match must be the record's ETag, e.g. "3"; got ${header}.`);
  }
  return Number(match[1]);
}

function project(record: ApiRecord, fields: string[] | undefined): Partial<ApiRecord> {
  if (!fields) return record;
  const result: Partial<ApiRecord> = { id: record.id };
  for (const field of fields) result[field] = record[field];
  return result;
}
