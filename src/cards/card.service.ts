import { Injectable } from '@nestjs/common';
import { UUID } from '../common/ids';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission, hasPermission } from '../auth/permission.policy';
import type { CompiledModule } from '../metadata/compiled-module';
import type { RelatedList } from '../metadata/layout.types';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { compileListQuery } from '../records/record-query.compiler';
import { isPlainObject, type RecordData } from '../records/record-input';
import { SqlRecordReader, conditionToFilters } from '../records/record.reader';
import { RECORD_COLUMNS, RecordRepository } from '../records/record.repository';
import { RecordNotFoundException } from '../records/record.exception';
import { toApiRecord } from '../records/record.view';
import { prepareWrite } from '../records/record-write.pipeline';
import type { FieldState } from '../rules/rule.types';
import type { CardBlock, CardField, CardRelatedList, CardTool, CardView } from './card.types';
import { visibleTools } from '../tools/tool.service';
import { displayValue, labelIn, recordTitle } from './display-value';

export interface CardOptions {
  lang: string;
  explain: boolean;
}

/**
 * The entity card: the module's layout resolved for one record (or an unsaved
 * draft) with the same rules and formulas every write obeys, in the user's
 * language, with the first page of each related list.
 */
@Injectable()
export class CardService {
  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordRepository,
  ) {}

  async card(ctx: RequestContext, moduleName: string, id: string, options: CardOptions): Promise<CardView> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    if (!UUID.test(id)) throw new AppException('bad_request', 'invalid_id', `"${id}" is not a record id (a UUID).`);
    const row = await this.records.find(this.records.db, module.name, id);
    if (!row) throw new RecordNotFoundException(module.name, id);
    // Evaluating an unchanged record through the write pipeline gives exactly the states a save would see.
    const reader = new SqlRecordReader(this.records.db, snapshot);
    const { states } = await prepareWrite({ module, input: {}, current: row.data, id, ctx, reader });
    const view = await this.render(module, row.data, states, options, reader);
    return {
      ...view,
      tools: await this.tools(snapshot, module, toApiRecord(row), options.lang, `/api/v1/${module.name}/${id}/tools`),
      record: { id: row.id, number: row.number, version: row.version },
      relatedLists: await this.relatedLists(ctx, snapshot, module, id, options.lang),
      links: { self: `/api/v1/${module.name}/${id}`, history: `/api/v1/${module.name}/${id}/history` },
    };
  }

  /** Applies rules and formulas to an unsaved draft (new, or edits of `id`) and returns the card a save would produce. */
  async evaluate(ctx: RequestContext, moduleName: string, body: unknown, options: CardOptions): Promise<CardView> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    if (
      !isPlainObject(body) ||
      (body.values !== undefined && !isPlainObject(body.values)) ||
      Object.keys(body).some((k) => k !== 'id' && k !== 'values')
    ) {
      throw new AppException(
        'bad_request',
        'invalid_draft',
        'Send the draft as { "id"?: "<record id when editing>", "values": { field: value, ... } }.',
      );
    }
    const values = (body.values ?? {}) as RecordData;
    const id = body.id;
    let current: RecordData | null = null;
    let record: CardView['record'] = null;
    if (id !== undefined) {
      if (typeof id !== 'string' || !UUID.test(id))
        throw new AppException('bad_request', 'invalid_id', '"id" must be the UUID of the record being edited.');
      const row = await this.records.find(this.records.db, module.name, id);
      if (!row) throw new RecordNotFoundException(module.name, id);
      current = row.data;
      record = { id: row.id, number: row.number, version: row.version };
    }
    const reader = new SqlRecordReader(this.records.db, snapshot);
    const result = await prepareWrite({ module, input: values, current, id: record?.id, ctx, reader });
    const view = await this.render(module, result.data, result.states, options, reader);
    return {
      ...view,
      record,
      relatedLists: [],
      links: record ? { self: `/api/v1/${module.name}/${record.id}` } : {},
      errors: result.errors,
    };
  }

  private async render(
    module: CompiledModule,
    data: RecordData,
    states: Map<string, FieldState>,
    { lang, explain }: CardOptions,
    reader: SqlRecordReader,
  ): Promise<Omit<CardView, 'record' | 'relatedLists' | 'links'>> {
    const layout = module.layout;
    const placed = new Set([...(layout?.blocks.flatMap((b) => b.fields) ?? []), ...(layout?.hidden ?? [])]);
    const blocks = (layout?.blocks ?? []).map((b) => ({
      id: b.id,
      label: labelIn(b.label, lang, b.id),
      columns: b.columns,
      collapsed: b.collapsed,
      fields: b.fields,
    }));
    const rest = [...module.fields.keys()].filter((f) => !placed.has(f));
    if (rest.length > 0) {
      blocks.push({
        id: layout ? 'other' : 'details',
        label: lang.startsWith('sv') ? (layout ? 'Övrigt' : 'Uppgifter') : layout ? 'Other' : 'Details',
        columns: 2,
        collapsed: false,
        fields: rest,
      });
    }
    const formulas = new Map([...module.formulas.record].map((f) => [f.field, f]));
    const rendered: CardBlock[] = [];
    for (const block of blocks) {
      const fields: CardField[] = [];
      for (const name of block.fields) {
        const field = module.fields.get(name)!;
        const state = states.get(name)!;
        const value = data[name] ?? null;
        let related: string | undefined;
        if (field.type === 'relation' && field.module && typeof value === 'string') {
          const target = await reader.get(field.module, value);
          related = target ? recordTitle(target) : undefined;
        }
        const view: CardField = {
          name,
          label: labelIn(field.label, lang, name),
          type: field.type,
          value,
          displayValue: displayValue(field, value, lang, related),
          visible: state.visible,
          required: state.required,
          readOnly: state.readOnly,
        };
        if (field.options) view.options = state.options ?? field.options;
        if (explain) {
          const formula = formulas.get(name);
          view.explain = {
            hiddenBy: state.because.hidden,
            shownBy: state.because.shown,
            requiredBy: state.because.required,
            readOnlyBy: state.because.readOnly,
            optionsBy: state.because.options,
            ...(formula
              ? {
                  formula: {
                    source: formula.source,
                    reads: formula.reads,
                    related: formula.dependencies.map((d) => `${d.kind}:${d.module}.${d.relation}`),
                  },
                }
              : {}),
          };
        }
        fields.push(view);
      }
      rendered.push({ id: block.id, label: block.label, columns: block.columns, collapsed: block.collapsed, fields });
    }
    return {
      module: { name: module.name, label: labelIn(module.definition.label, lang, module.name) },
      blocks: rendered,
      tools: [],
    };
  }

  private async tools(
    snapshot: MetadataSnapshot,
    module: CompiledModule,
    record: RecordData,
    lang: string,
    base?: string,
  ): Promise<CardTool[]> {
    return (await visibleTools(snapshot, module.name, record)).map(({ definition }) => ({
      name: definition.name,
      label: labelIn(definition.label, lang, definition.name),
      ...(definition.confirm ? { confirm: labelIn(definition.confirm, lang, '') } : {}),
      parameters: Object.entries(definition.parameters ?? {}).map(([name, field]) => ({
        name,
        label: labelIn(field.label, lang, name),
        type: field.type,
        required: field.required === true,
        ...(field.options ? { options: field.options } : {}),
      })),
      ...(base ? { href: `${base}/${definition.name}` } : {}),
    }));
  }

  private async relatedLists(
    ctx: RequestContext,
    snapshot: MetadataSnapshot,
    module: CompiledModule,
    id: string,
    lang: string,
  ): Promise<CardRelatedList[]> {
    const lists: CardRelatedList[] = [];
    for (const list of module.layout?.relatedLists ?? []) {
      const target = snapshot.modules.get(list.module);
      // A related list of a module this key may not read is left out, not an error.
      if (!target || !hasPermission(ctx, `${list.module}:read`)) continue;
      lists.push(await this.relatedList(target, list, id, lang));
    }
    return lists;
  }

  private async relatedList(target: CompiledModule, list: RelatedList, id: string, lang: string): Promise<CardRelatedList> {
    const query: Array<[string, string]> = [
      [`filter[${list.relation}][eq]`, id],
      ...conditionToFilters(list.filter),
      ['limit', String(list.pageSize)],
    ];
    if (list.sort) query.push(['sort', list.sort]);
    const compiled = compileListQuery(target, query, RECORD_COLUMNS);
    const rows = await this.records.list(compiled.sql, compiled.params);
    const page = rows.slice(0, compiled.limit);
    const params = new URLSearchParams(query.filter(([k]) => k !== 'limit'));
    return {
      id: list.id,
      label: labelIn(list.label, lang, list.id),
      module: list.module,
      columns: list.columns.map((name) => ({ name, label: labelIn(target.fields.get(name)?.label, lang, name) })),
      records: page.map((row) => {
        const record = toApiRecord(row);
        return Object.fromEntries([['id', record.id], ...list.columns.map((c) => [c, record[c] ?? null])]);
      }),
      nextCursor: rows.length > compiled.limit ? compiled.cursorAfter(page[page.length - 1]) : null,
      href: `/api/v1/${list.module}?${params.toString()}`,
    };
  }
}
