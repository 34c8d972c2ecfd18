import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException, type FieldError } from '../common/app.exception';
import { FORMULA_CONTEXT, type RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/api-key.service';
import type { SqlExecutor } from '../database/database';
import type { CompiledModule } from '../metadata/compiled-module';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { OutboxRepository } from '../queue/outbox.repository';
import { OutboxRelay } from '../queue/outbox.relay';
import { RECORD_CHANGED, type RecordChangedEvent } from '../formulas/record-changed.event';
import { compileListQuery, DEFAULT_LIMIT, MAX_LIMIT } from './record-query.compiler';
import { RecordNotFoundException, RecordValidationException, StaleVersionException } from './record.exception';
import { isPlainObject, relationRefs, sameJson, type RecordData } from './record-input';
import { prepareWrite } from './record-write.pipeline';
import { SqlRecordReader } from './record.reader';
import { RECORD_COLUMNS, RecordRepository, type Actor, type RecordRow } from './record.repository';
import { toApiRecord, toHistoryEntry, type ApiRecord, type HistoryEntry } from './record.view';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Page<T> {
  data: T[];
  page: { limit: number; nextCursor: string | null };
}

/**
 * Generic records: one code path for every module. Each write is validated
 * against the module's compiled schema, checked for related records, numbered
 * and logged inside the saving transaction.
 */
@Injectable()
export class RecordService {
  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
  ) {}

  async create(ctx: RequestContext, moduleName: string, body: unknown): Promise<ApiRecord> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:create`);
    const input = requireObject(module, body);
    const actor = actorOf(ctx);
    const id = randomUUID();
    const save = async (executor: SqlExecutor) => {
      const { data, errors } = await prepareWrite({ module, input, current: null, ctx, reader: new SqlRecordReader(executor, snapshot) });
      if (errors.length > 0) throw new RecordValidationException(module.name, errors);
      await this.checkRelations(executor, module, data);
      const row = await this.records.insert(executor, module, id, data, actor);
      await this.announce(executor, snapshot, module, id, null, data, 0);
      return row;
    };
    // Without relations, cross-record formulas or readers elsewhere a create is one statement;
    // otherwise reads, insert and outbox event share a transaction.
    const needsTransaction = module.relations.length > 0 || module.formulas.dependencies.length > 0 || snapshot.dependents.has(module.name);
    const row = needsTransaction ? await this.records.db.transaction(save) : await save(this.records.db);
    this.afterCommit(snapshot, module);
    return toApiRecord(row);
  }

  async get(ctx: RequestContext, moduleName: string, id: string): Promise<ApiRecord> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    return toApiRecord(await this.load(this.records.db, module, id));
  }

  /** Merges `body` into the record (null clears a field); `ifMatch` is the version the client last saw. */
  async update(ctx: RequestContext, moduleName: string, id: string, body: unknown, ifMatch?: string): Promise<ApiRecord> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:update`);
    const patch = requireObject(module, body);
    const expected = parseIfMatch(ifMatch);
    const actor = actorOf(ctx);
    const row = await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if (expected !== undefined && current.version !== expected)
        throw new StaleVersionException(module.name, id, String(expected), current.version);
      const { data, errors } = await prepareWrite({
        module,
        input: patch,
        current: current.data,
        id,
        ctx,
        reader: new SqlRecordReader(tx, snapshot),
      });
      if (errors.length > 0) throw new RecordValidationException(module.name, errors);
      const changed = changedFields(current.data, data);
      if (changed.length === 0) return current;
      await this.checkRelations(tx, module, data, changed);
      const changes = module.trackedFields
        .filter((f) => changed.includes(f))
        .map((f) => ({ field: f, old: current.data[f] ?? null, new: data[f] ?? null }));
      const updated = await this.records.update(tx, id, current.version, data, changes, actor);
      if (!updated) throw new StaleVersionException(module.name, id, String(current.version), current.version + 1);
      await this.announce(tx, snapshot, module, id, current.data, data, 0);
      return updated;
    });
    this.afterCommit(snapshot, module);
    return toApiRecord(row);
  }

  /**
   * Recomputes a record's formulas as a save would (the engine acting, source
   * `formula`) and stores the result when a computed value changed. Only computed
   * fields are taken over, so a refresh never trips over rules the stored record
   * no longer meets. Used by the formula refresh and backfill.
   */
  async recompute(moduleName: string, id: string, depth: number): Promise<boolean> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    const computed = [...module.fields].filter(([, f]) => f.formula !== undefined || f.type === 'lines').map(([name]) => name);
    if (computed.length === 0) return false;
    const actor = actorOf(FORMULA_CONTEXT);
    const changedAny = await this.records.db.transaction(async (tx) => {
      const current = await this.records.find(tx, module.name, id, true);
      if (!current) return false;
      const { data } = await prepareWrite({
        module,
        input: {},
        current: current.data,
        id,
        ctx: FORMULA_CONTEXT,
        reader: new SqlRecordReader(tx, snapshot),
      });
      const next: RecordData = { ...current.data };
      for (const field of computed) {
        if (data[field] === undefined) delete next[field];
        else next[field] = data[field];
      }
      const changed = changedFields(current.data, next);
      if (changed.length === 0) return false;
      const changes = module.trackedFields
        .filter((f) => changed.includes(f))
        .map((f) => ({ field: f, old: current.data[f] ?? null, new: next[f] ?? null }));
      await this.records.update(tx, id, current.version, next, changes, actor);
      await this.announce(tx, snapshot, module, id, current.data, next, depth);
      return true;
    });
    if (changedAny) this.afterCommit(snapshot, module);
    return changedAny;
  }

  /** Writes the outbox event that refreshes formulas elsewhere reading this module, in the saving transaction. */
  private async announce(
    tx: SqlExecutor,
    snapshot: MetadataSnapshot,
    module: CompiledModule,
    id: string,
    before: RecordData | null,
    after: RecordData | null,
    depth: number,
  ): Promise<void> {
    if (!snapshot.dependents.has(module.name)) return;
    const relations: RecordChangedEvent['relations'] = {};
    for (const relation of module.relations) {
      if (relation.lines) continue;
      relations[relation.field] = [(before?.[relation.field] as string) ?? null, (after?.[relation.field] as string) ?? null];
    }
    const event: RecordChangedEvent = { module: module.name, id, relations, depth };
    await this.outbox.add(tx, RECORD_CHANGED, event);
  }

  private afterCommit(snapshot: MetadataSnapshot, module: CompiledModule): void {
    if (snapshot.dependents.has(module.name)) this.relay.kick();
  }

  async delete(ctx: RequestContext, moduleName: string, id: string, ifMatch?: string): Promise<void> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:delete`);
    const expected = parseIfMatch(ifMatch);
    await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if (expected !== undefined && current.version !== expected)
        throw new StaleVersionException(module.name, id, String(expected), current.version);
      const referencing = await this.records.referencingModules(tx, id, snapshot.incoming.get(module.name) ?? []);
      if (referencing.length > 0) {
        throw new AppException(
          'conflict',
          'record_referenced',
          `The ${module.name} record ${id} is referenced by ${referencing.join(', ')} records; remove those references first, or archive it instead.`,
        );
      }
      await this.records.delete(tx, id);
      await this.announce(tx, snapshot, module, id, current.data, null, 0);
    });
    this.afterCommit(snapshot, module);
  }

  async setArchived(ctx: RequestContext, moduleName: string, id: string, archived: boolean): Promise<ApiRecord> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:update`);
    const row = await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if ((current.archived_at !== null) === archived) return current;
      // Rollups leave archived records out, so archiving changes them.
      await this.announce(tx, snapshot, module, id, current.data, current.data, 0);
      return this.records.setArchived(tx, id, archived);
    });
    this.afterCommit(snapshot, module);
    return toApiRecord(row);
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
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    await this.load(this.records.db, module, id);
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

  private async load(executor: SqlExecutor, module: CompiledModule, id: string, lock = false): Promise<RecordRow> {
    if (!UUID.test(id)) {
      throw new AppException(
        'bad_request',
        'invalid_id',
        `"${id}" is not a record id; ids are UUIDs such as 7f1c0e2a-5b7e-4a51-9d7c-2f8e4c1b9a10.`,
      );
    }
    const row = await this.records.find(executor, module.name, id, lock);
    if (!row) throw new RecordNotFoundException(module.name, id);
    return row;
  }

  /** Every relation value must name an existing record of the right module (locked until commit). */
  private async checkRelations(tx: SqlExecutor, module: CompiledModule, data: RecordData, onlyFields?: string[]): Promise<void> {
    const refs = relationRefs(module, data).filter((ref) => !onlyFields || onlyFields.includes(ref.path.split(/[[.]/)[0]));
    if (refs.length === 0) return;
    const found = await this.records.lockTargets(tx, [...new Set(refs.map((r) => r.id.toLowerCase()))]);
    const errors: FieldError[] = [];
    for (const ref of refs) {
      const actual = found.get(ref.id.toLowerCase());
      if (actual === undefined) {
        errors.push({
          field: ref.path,
          code: 'related_record_not_found',
          message: `"${ref.path}": there is no ${ref.target} record with id ${ref.id}`,
        });
      } else if (actual !== ref.target) {
        errors.push({
          field: ref.path,
          code: 'wrong_related_module',
          message: `"${ref.path}": record ${ref.id} is a ${actual} record, not ${ref.target}`,
        });
      }
    }
    if (errors.length > 0) throw new RecordValidationException(module.name, errors);
  }
}

function requireObject(module: CompiledModule, body: unknown): RecordData {
  if (!isPlainObject(body)) {
    throw new AppException('bad_request', 'body_not_object', `Send the ${module.name} record as a JSON object of field values.`);
  }
  return body;
}

function actorOf(ctx: RequestContext): Actor {
  return { id: ctx.actorId, name: ctx.actorName, source: ctx.source };
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

/** Fields whose value differs between two versions of a record's data. */
function changedFields(before: RecordData, after: RecordData): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => !sameJson(before[key], after[key]));
}
