import { displayValue, recordTitle } from '../cards/display-value';
import type { CompiledModule } from '../metadata/compiled-module';
import type { MetadataSnapshot } from '../metadata/metadata.registry';
import type { FieldDefinition } from '../metadata/metadata.types';
import type { LabelMap } from '../templates/template.helpers';

type Data = Record<string, unknown>;

/** Reads records by id, whatever their module (one query for all of them). */
export type FetchRecords = (ids: string[]) => Promise<Data[]>;

export interface DocumentDataOptions {
  lang: string;
  /** Whether the caller may read records of `module`; without it a related record shows only its id, number and name. */
  canRead(module: string): boolean;
  fetch: FetchRecords;
  /** Today's date, `YYYY-MM-DD` (UTC). */
  today: string;
}

/** The name a module's record goes by in templates: `invoice`, `opportunity` (its English label, snake_case). */
export function singularName(module: CompiledModule): string {
  return (module.definition.label.en ?? module.name).toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** The module's first `lines` field, which documents print as `lines`. */
export function linesFieldOf(module: CompiledModule): string | undefined {
  for (const [name, field] of module.fields) if (field.type === 'lines') return name;
  return undefined;
}

/**
 * What a document template sees (the shape email templates get from workflows, plus lines and display values):
 *
 * - `record`, and the same record under its module's singular name (`invoice`, `opportunity`, `contact`);
 * - the records its relations point to, by field name (`account`, `contact`; also under `related`), each with a
 *   display `name`;
 * - `lines`: the rows of the module's first lines field, each with its 1-based `position`, the records its relations
 *   point to under `related` (`related.product.name`) and its values formatted in the language under `formatted`;
 * - `formatted`: the record's values formatted in the language (numbers, dates, relations by name; `formatted.lines`
 *   the rows') — what tag templates (DOCX, XLSX), which have no helpers, print: `{formatted.total}`;
 * - `today` (`YYYY-MM-DD`) and `lang`.
 */
export async function buildDocumentData(
  snapshot: MetadataSnapshot,
  module: CompiledModule,
  record: Data,
  options: DocumentDataOptions,
): Promise<Data> {
  const linesField = linesFieldOf(module);
  const rows = linesField && Array.isArray(record[linesField]) ? (record[linesField] as unknown[]).filter(isObject) : [];

  // Every related record (of the record and of its lines) in one read.
  const wanted = new Map<string, string>();
  for (const relation of module.relations) {
    const sources = relation.lines ? (relation.lines === linesField ? rows : []) : [record];
    for (const source of sources) {
      const id = source[relation.field];
      if (typeof id === 'string') wanted.set(id, relation.target);
    }
  }
  const found = new Map<string, Data>();
  if (wanted.size > 0) {
    for (const target of await options.fetch([...wanted.keys()])) {
      const id = String(target.id);
      if (wanted.get(id) === target.module) found.set(id, target);
    }
  }
  const view = (id: unknown): Data | undefined => {
    const target = typeof id === 'string' ? found.get(id) : undefined;
    if (!target) return undefined;
    const name = recordTitle(target);
    return options.canRead(String(target.module)) ? { name, ...target } : { id: target.id, number: target.number, name };
  };

  const related: Data = {};
  for (const relation of module.relations) {
    if (relation.lines) continue;
    const target = view(record[relation.field]);
    if (target) related[relation.field] = target;
  }
  const lineFields = linesField ? (module.fields.get(linesField)?.fields ?? {}) : {};
  const lines = rows.map((row, index) => {
    const rowRelated: Data = {};
    for (const [name, field] of Object.entries(lineFields)) {
      const target = field.type === 'relation' ? view(row[name]) : undefined;
      if (target) rowRelated[name] = target;
    }
    return { ...row, position: index + 1, related: rowRelated, formatted: formatAll(lineFields, row, rowRelated, options.lang) };
  });
  const formatted: Data = formatAll(Object.fromEntries(module.fields), record, related, options.lang);
  if (linesField) formatted[linesField] = formatted.lines = lines.map((line) => line.formatted);

  return {
    ...related,
    [singularName(module)]: record,
    record,
    related,
    lines,
    formatted,
    today: options.today,
    lang: options.lang,
  };
}

function formatAll(fields: Record<string, FieldDefinition>, values: Data, related: Data, lang: string): Record<string, string> {
  const shown: Record<string, string> = { number: typeof values.number === 'string' ? values.number : '' };
  for (const [name, field] of Object.entries(fields)) {
    const relatedName = (related[name] as { name?: string } | undefined)?.name;
    shown[name] = displayValue(field, values[name], lang, relatedName) ?? '';
  }
  return shown;
}

/**
 * The labels `{{label}}` reads in a document: every module's field labels as `module.field` (and `module.lines.field`
 * for the rows of a lines field), the printed module's also without the module (`due_date`, `lines.quantity`), and
 * the template's own texts, which win.
 */
export function documentLabels(snapshot: MetadataSnapshot, module: CompiledModule, texts: LabelMap): LabelMap {
  const labels: LabelMap = Object.create(null) as LabelMap;
  const add = (prefix: string, fields: Record<string, FieldDefinition>) => {
    for (const [name, field] of Object.entries(fields)) {
      // Without a label, {{label}} humanises the field name itself.
      if (field.label) labels[`${prefix}${name}`] = field.label;
      if (field.type === 'lines') add(`${prefix}${name}.`, field.fields ?? {});
    }
  };
  for (const other of snapshot.modules.values()) add(`${other.name}.`, other.definition.fields);
  add('', module.definition.fields);
  return Object.assign(labels, texts);
}

function isObject(value: unknown): value is Data {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
