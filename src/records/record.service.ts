import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppException, type FieldError } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/api-key.service';
import type { SqlExecutor } from '../database/database';
import type { CompiledModule } from '../metadata/compiled-module';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { compileListQuery, DEFAULT_LIMIT, MAX_LIMIT } from './record-query.compiler';
import { RecordNotFoundException, RecordValidationException, StaleVersionException } from './record.exception';
import { isPlainObject, normalize, relationRefs, sameJson, toFieldErrors, type RecordData } from './record-input';
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
  ) {}

  async create(ctx: RequestContext, moduleName: string, body: unknown): Promise<ApiRecord> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:create`);
    const input = requireObject(module, body);
    const withDefaults: RecordData = { ...input };
    for (const [field, value] of module.defaults) if (withDefaults[field] === undefined) withDefaults[field] = value;
    if (!module.validateCreate(withDefaults)) throw new RecordValidationException(module.name, toFieldErrors(module, module.validateCreate.errors));
    const data = normalize(module, withDefaults);
    const actor = actorOf(ctx);
    const id = randomUUID();
    const refs = relationRefs(module, data);
    const row =
      refs.length === 0
        ? await this.records.insert(this.records.db, module, id, data, actor)
        : await this.records.db.transaction(async (tx) => {
            await this.checkRelations(tx, module, data);
            return this.records.insert(tx, module, id, data, actor);
          });
    return toApiRecord(row);
  }

  async get(ctx: RequestContext, moduleName: string, id: string): Promise<ApiRecord> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    return toApiRecord(await this.load(this.records.db, module, id));
  }

  /** Merges `body` into the record (null clears a field); `ifMatch` is the version the client last saw. */
  async update(ctx: RequestContext, moduleName: string, id: string, body: unknown, ifMatch?: string): Promise<ApiRecord> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:update`);
    const patch = requireObject(module, body);
    if (!module.validateUpdate(patch)) throw new RecordValidationException(module.name, toFieldErrors(module, module.validateUpdate.errors));
    const expected = parseIfMatch(ifMatch);
    const actor = actorOf(ctx);
    const row = await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if (expected !== undefined && current.version !== expected) throw new StaleVersionException(module.name, id, String(expected), current.version);
      const data = normalize(module, { ...current.data, ...patch });
      const missing = module.requiredFields.filter((f) => data[f] === undefined);
      if (missing.length > 0) {
        throw new RecordValidationException(
          module.name,
          missing.map((f) => ({ field: f, code: 'required', message: `"${f}" is required and cannot be cleared` })),
        );
      }
      const changed = Object.keys(patch).filter((f) => !sameJson(current.data[f], data[f]));
      if (changed.length === 0) return current;
      const changedRefs = relationRefs(module, data).filter((ref) => changed.includes(ref.path.split(/[[.]/)[0]));
      if (changedRefs.length > 0) await this.checkRelations(tx, module, data, changed);
      const changes = module.trackedFields
        .filter((f) => changed.includes(f))
        .map((f) => ({ field: f, old: current.data[f] ?? null, new: data[f] ?? null }));
      const updated = await this.records.update(tx, id, current.version, data, changes, actor);
      if (!updated) throw new StaleVersionException(module.name, id, String(current.version), current.version + 1);
      return updated;
    });
    return toApiRecord(row);
  }

  async delete(ctx: RequestContext, moduleName: string, id: string, ifMatch?: string): Promise<void> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:delete`);
    const expected = parseIfMatch(ifMatch);
    await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if (expected !== undefined && current.version !== expected) throw new StaleVersionException(module.name, id, String(expected), current.version);
      const referencing = await this.records.referencingModules(tx, id, snapshot.incoming.get(module.name) ?? []);
      if (referencing.length > 0) {
        throw new AppException(
          'conflict',
          'record_referenced',
          `The ${module.name} record ${id} is referenced by ${referencing.join(', ')} records; remove those references first, or archive it instead.`,
        );
      }
      await this.records.delete(tx, id);
    });
  }

  async setArchived(ctx: RequestContext, moduleName: string, id: string, archived: boolean): Promise<ApiRecord> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:update`);
    const row = await this.records.db.transaction(async (tx) => {
      const current = await this.load(tx, module, id, true);
      if ((current.archived_at !== null) === archived) return current;
      return this.records.setArchived(tx, id, archived);
    });
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
    if (unknown.length > 0) throw new AppException('bad_request', 'unknown_parameter', `Unknown query parameter(s): ${unknown.join(', ')}; use limit and cursor.`);
    const limitText = params.get('limit');
    const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new AppException('bad_request', 'invalid_query', `limit must be an integer from 1 to ${MAX_LIMIT}.`, [{ field: 'limit', code: 'invalid_value', message: 'out of range' }]);
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
      throw new AppException('bad_request', 'invalid_id', `"${id}" is not a record id; ids are UUIDs such as 7f1c0e2a-5b7e-4a51-9d7c-2f8e4c1b9a10.`);
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
        errors.push({ field: ref.path, code: 'related_record_not_found', message: `"${ref.path}": there is no ${ref.target} record with id ${ref.id}` });
      } else if (actual !== ref.target) {
        errors.push({ field: ref.path, code: 'wrong_related_module', message: `"${ref.path}": record ${ref.id} is a ${actual} record, not ${ref.target}` });
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
