import { randomUUID } from 'node:crypto';
import { UUID } from '../common/ids';
import { AppException, type FieldError } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission } from '../auth/permission.policy';
import type { SqlExecutor } from '../database/database';
import { RECORD_CHANGED, type RecordChangedEvent } from '../formulas/record-changed.event';
import type { CompiledModule } from '../metadata/compiled-module';
import type { MetadataSnapshot } from '../metadata/metadata.registry';
import type { OutboxRepository } from '../queue/outbox.repository';
import { RECORD_SAVED, triggersOn, type RecordSavedEvent } from '../workflows/workflow.types';
import { RecordNotFoundException, RecordValidationException, StaleVersionException } from './record.exception';
import { isPlainObject, relationRefs, sameJson, type RecordData } from './record-input';
import { prepareWrite } from './record-write.pipeline';
import { SqlRecordReader } from './record.reader';
import type { RecordRepository, RecordRow } from './record.repository';
import { RecordInsertBatcher, type OutboxEvent } from './record-insert.batcher';

/**
 * Record writes inside one transaction (or one statement): every create,
 * update, archive and delete of the API, of workflows and of formula refreshes
 * goes through here, so each obeys validation, rules, formulas and numbering,
 * and writes its outbox events in the same transaction. `touched` collects the
 * modules whose events wait for the relay after commit.
 */
export class RecordWriter {
  /**
   * The rows this transaction has locked FOR UPDATE, as it last wrote them: read again, or checked as a relation
   * target, they need no statement (the lock keeps them as they are until the commit).
   */
  private readonly locked = new Map<string, RecordRow>();
  /** Work for after the commit (see {@link afterCommit}). */
  readonly committed: Array<() => Promise<void>> = [];

  constructor(
    readonly tx: SqlExecutor,
    readonly ctx: RequestContext,
    readonly snapshot: MetadataSnapshot,
    private readonly records: RecordRepository,
    private readonly outbox: OutboxRepository,
    readonly touched: Set<string> = new Set(),
  ) {}

  /**
   * Runs `work` once the transaction has committed, never if it rolls back: handing the queue a message or a run
   * written here. Whoever opened the transaction runs it ({@link RecordService.write}); a process that stops in
   * between leaves that to the mail and run polls.
   */
  afterCommit(work: () => Promise<void>): void {
    this.committed.push(work);
  }

  async create(moduleName: string, body: unknown): Promise<RecordRow> {
    const module = this.snapshot.module(moduleName);
    assertPermission(this.ctx, `${module.name}:create`);
    const input = requireObject(module, body);
    const id = randomUUID();
    const { data, errors } = await prepareWrite({ module, input, current: null, ctx: this.ctx, reader: this.reader() });
    if (errors.length > 0) throw new RecordValidationException(module.name, errors);
    await this.checkRelations(module, data);
    const row = await this.records.insert(this.tx, module, id, data, this.actor());
    await this.announce(module, id, 'create', null, data);
    return row;
  }

  /** Merges `body` into the record (null clears a field); `expected` is the version the client last saw. */
  async update(moduleName: string, id: string, body: unknown, expected?: number): Promise<RecordRow> {
    const module = this.snapshot.module(moduleName);
    assertPermission(this.ctx, `${module.name}:update`);
    const patch = requireObject(module, body);
    const current = await this.load(module, id, true);
    if (expected !== undefined && current.version !== expected)
      throw new StaleVersionException(module.name, id, String(expected), current.version);
    const { data, errors } = await prepareWrite({ module, input: patch, current: current.data, id, ctx: this.ctx, reader: this.reader() });
    if (errors.length > 0) throw new RecordValidationException(module.name, errors);
    return this.store(module, current, data);
  }

  async delete(moduleName: string, id: string, expected?: number): Promise<void> {
    const module = this.snapshot.module(moduleName);
    assertPermission(this.ctx, `${module.name}:delete`);
    const current = await this.load(module, id, true);
    if (expected !== undefined && current.version !== expected)
      throw new StaleVersionException(module.name, id, String(expected), current.version);
    const referencing = await this.records.referencingModules(this.tx, id, this.snapshot.incoming.get(module.name) ?? []);
    if (referencing.length > 0) {
      throw new AppException(
        'conflict',
        'record_referenced',
        `The ${module.name} record ${id} is referenced by ${referencing.join(', ')} records; remove those references first, or archive it instead.`,
      );
    }
    await this.records.delete(this.tx, id);
    this.locked.delete(current.id);
    await this.announce(module, id, 'delete', current.data, null);
  }

  async setArchived(moduleName: string, id: string, archived: boolean): Promise<RecordRow> {
    const module = this.snapshot.module(moduleName);
    assertPermission(this.ctx, `${module.name}:update`);
    const current = await this.load(module, id, true);
    if ((current.archived_at !== null) === archived) return current;
    // Rollups leave archived records out, so archiving changes them.
    await this.announce(module, id, 'update', current.data, current.data);
    const row = await this.records.setArchived(this.tx, id, archived);
    this.locked.set(row.id, row);
    return row;
  }

  /**
   * Recomputes a record's formulas as a save would and stores the result when a
   * computed value changed. Only computed fields are taken over, so a refresh
   * never trips over rules the stored record no longer meets.
   */
  async recompute(moduleName: string, id: string, depth: number): Promise<boolean> {
    const module = this.snapshot.module(moduleName);
    const computed = [...module.fields].filter(([, f]) => f.formula !== undefined || f.type === 'lines').map(([name]) => name);
    if (computed.length === 0) return false;
    const current = await this.find(module, id, true);
    if (!current) return false;
    const { data } = await prepareWrite({ module, input: {}, current: current.data, id, ctx: this.ctx, reader: this.reader() });
    const next: RecordData = { ...current.data };
    for (const field of computed) {
      if (data[field] === undefined) delete next[field];
      else next[field] = data[field];
    }
    if (changedFields(current.data, next).length === 0) return false;
    await this.store(module, current, next, depth);
    return true;
  }

  async load(module: CompiledModule, id: string, lock = false): Promise<RecordRow> {
    if (!UUID.test(id)) {
      throw new AppException(
        'bad_request',
        'invalid_id',
        `"${id}" is not a record id; ids are UUIDs such as 7f1c0e2a-5b7e-4a51-9d7c-2f8e4c1b9a10.`,
      );
    }
    const row = await this.find(module, id, lock);
    if (!row) throw new RecordNotFoundException(module.name, id);
    return row;
  }

  /** The record `id` of `module`, or undefined; with `lock`, locked FOR UPDATE until the transaction ends. */
  async find(module: CompiledModule, id: string, lock = false): Promise<RecordRow | undefined> {
    const held = this.locked.get(id.toLowerCase());
    if (held) return held.module === module.name ? held : undefined;
    const row = await this.records.find(this.tx, module.name, id, lock);
    if (row && lock) this.locked.set(row.id, row);
    return row;
  }

  private async store(module: CompiledModule, current: RecordRow, data: RecordData, formulaDepth = 0): Promise<RecordRow> {
    const changed = changedFields(current.data, data);
    if (changed.length === 0) return current;
    await this.checkRelations(module, data, changed);
    const changes = module.trackedFields
      .filter((f) => changed.includes(f))
      .map((f) => ({ field: f, old: current.data[f] ?? null, new: data[f] ?? null }));
    const updated = await this.records.update(this.tx, current.id, current.version, data, changes, this.actor());
    if (!updated) throw new StaleVersionException(module.name, current.id, String(current.version), current.version + 1);
    this.locked.set(updated.id, updated);
    await this.announce(module, current.id, 'update', current.data, data, formulaDepth);
    return updated;
  }

  /** Writes the outbox events of a change: formula refreshes elsewhere, and workflows watching the module. */
  private async announce(
    module: CompiledModule,
    id: string,
    op: RecordSavedEvent['op'],
    before: RecordData | null,
    after: RecordData | null,
    formulaDepth = 0,
  ): Promise<void> {
    for (const event of this.eventsFor(module, id, op, before, after, formulaDepth)) {
      await this.outbox.add(this.tx, event.topic, event.payload);
      this.touched.add(module.name);
    }
  }

  /** The outbox events a change of this module causes (none when nothing reads or watches it). */
  eventsFor(
    module: CompiledModule,
    id: string,
    op: RecordSavedEvent['op'],
    before: RecordData | null,
    after: RecordData | null,
    formulaDepth = 0,
  ): OutboxEvent[] {
    const events: OutboxEvent[] = [];
    const causation = this.ctx.causation ?? [];
    if (this.snapshot.dependents.has(module.name)) {
      const relations: RecordChangedEvent['relations'] = {};
      for (const relation of module.relations) {
        if (relation.lines) continue;
        relations[relation.field] = [(before?.[relation.field] as string) ?? null, (after?.[relation.field] as string) ?? null];
      }
      const payload: RecordChangedEvent = { module: module.name, id, relations, depth: formulaDepth, causation };
      events.push({ topic: RECORD_CHANGED, payload });
    }
    // Only a save some workflow starts on is an event: the others would be handled only to be dropped.
    if (this.snapshot.workflowsByModule.get(module.name)?.some((w) => triggersOn(w.definition.trigger, op))) {
      const payload: RecordSavedEvent = {
        eventId: randomUUID(),
        module: module.name,
        id,
        op,
        before,
        after,
        causation,
        depth: causation.length,
      };
      events.push({ topic: RECORD_SAVED, payload });
    }
    return events;
  }

  /**
   * A create through the insert batcher (one statement, grouped with concurrent
   * creates of the module): for records that point at no other record, so no
   * related record needs locking in a transaction.
   */
  async createBatched(moduleName: string, body: unknown, batcher: RecordInsertBatcher): Promise<RecordRow | undefined> {
    const module = this.snapshot.module(moduleName);
    assertPermission(this.ctx, `${module.name}:create`);
    const input = requireObject(module, body);
    const { data, errors } = await prepareWrite({ module, input, current: null, ctx: this.ctx, reader: this.reader() });
    if (errors.length > 0) throw new RecordValidationException(module.name, errors);
    if (relationRefs(module, data).length > 0) return undefined;
    const id = randomUUID();
    const events = this.eventsFor(module, id, 'create', null, data);
    if (events.length > 0) this.touched.add(module.name);
    return batcher.insert(module, id, data, this.actor(), events);
  }

  private reader(): SqlRecordReader {
    return new SqlRecordReader(this.tx, this.snapshot);
  }

  private actor() {
    return { id: this.ctx.actorId, name: this.ctx.actorName, source: this.ctx.source };
  }

  /** Every relation value must name an existing record of the right module (locked until commit). */
  private async checkRelations(module: CompiledModule, data: RecordData, onlyFields?: string[]): Promise<void> {
    const refs = relationRefs(module, data).filter((ref) => !onlyFields || onlyFields.includes(ref.path.split(/[[.]/)[0]));
    if (refs.length === 0) return;
    // A target this transaction holds FOR UPDATE is locked more strongly than the KEY SHARE lock taken here.
    const found = new Map<string, string>();
    const toLock: string[] = [];
    for (const id of new Set(refs.map((r) => r.id.toLowerCase()))) {
      const held = this.locked.get(id);
      if (held) found.set(id, held.module);
      else toLock.push(id);
    }
    if (toLock.length > 0) for (const [id, module] of await this.records.lockTargets(this.tx, toLock)) found.set(id, module);
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

/** Fields whose value differs between two versions of a record's data. */
export function changedFields(before: RecordData, after: RecordData): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => !sameJson(before[key], after[key]));
}
