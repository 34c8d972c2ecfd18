import { existsSync, readFileSync } from 'node:fs';
import { article, withArticle } from './module-schema';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { NAME_PATTERN, type FieldDefinition, type MetadataProblem, type ModuleDefinition } from './metadata.types';
import { findProjectRoot, readBundleFiles, type MetadataFile } from './metadata-files';
import { escapePointerSegment, readJsonSource } from './json-source';
import { CONDITION_SCHEMA_PATH, checkConditionSchema } from '../expressions/condition-schema';
import { closestName, describeValue } from '../expressions/condition-text';
import { validateCondition } from '../expressions/condition.validator';
import {
  DEFAULT_BLOCK_COLUMNS,
  DEFAULT_RELATED_PAGE_SIZE,
  LAYOUT_SYSTEM_KEYS,
  type LayoutDefinition,
  type LayoutSource,
} from './layout.types';

/** Path of the layout schema, relative to the project root. */
export const LAYOUT_SCHEMA_PATH = 'metadata/schema/layout.schema.json';

/** The outcome of validating a set of layouts. */
export interface LayoutValidationResult {
  /** The layouts whose file has no problem, in input order, with defaults filled in. */
  layouts: LayoutDefinition[];
  /** Every problem found, grouped by file in input order. */
  problems: MetadataProblem[];
}

type JsonObject = Record<string, unknown>;

const NAME = new RegExp(NAME_PATTERN);
const SORT = /^-?[A-Za-z][A-Za-z0-9_]*(,-?[A-Za-z][A-Za-z0-9_]*)*$/;
const SYSTEM_KEYS = new Set<string>(LAYOUT_SYSTEM_KEYS);
// The record query compiler cannot sort by these (see record-query.compiler.ts).
const UNSORTABLE_TYPES = new Set(['lines', 'multipicklist']);
// A related list runs as one list query (records/record.reader.ts conditionToFilters): field comparisons
// with these operators, optionally inside one top-level "all". Anything else would fail on every card.
const LIST_FILTER_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'empty'];

/** The module folder of a path like `modules/accounts/layout.json`, if it has that shape. */
export function layoutFolderOf(file: string): string | undefined {
  return /(?:^|\/)modules\/([^/]+)\/layout\.json$/.exec(file)?.[1];
}

/**
 * Reads every `modules/<name>/layout.json` below `rootDir`, sorted by folder name.
 * Folders without a layout are skipped: their card shows every field in one automatic block.
 */
export function readLayoutFiles(rootDir: string): Promise<MetadataFile[]> {
  return readBundleFiles(rootDir, 'layout.json');
}

/**
 * Validates layout files as they are on disk: JSON syntax (with line and column), duplicate keys, then
 * everything {@link validateLayouts} checks. Pass the validated modules the layouts refer to.
 */
export function validateLayoutFiles(files: MetadataFile[], modules: ModuleDefinition[]): LayoutValidationResult {
  const problems: MetadataProblem[] = [];
  const sources: LayoutSource[] = [];
  for (const { file, text } of files) {
    const result = readJsonSource(text);
    for (const { pointer, key, line, column } of result.duplicateKeys) {
      problems.push({
        file,
        pointer,
        message: `duplicate key ${JSON.stringify(key)} at line ${line}, column ${column}; JSON keeps only the last one, so remove or rename one of them`,
      });
    }
    if (result.syntaxError) {
      const { line, column, message } = result.syntaxError;
      problems.push({ file, pointer: '', message: `invalid JSON at line ${line}, column ${column}: ${message}` });
      continue;
    }
    sources.push({ file, body: result.value });
  }
  const checked = checkLayouts(sources, modules);
  const failed = new Set(problems.map((p) => p.file));
  return {
    layouts: checked.layouts.filter((l) => !failed.has(l.file)).map((l) => l.layout),
    problems: sortByFile(
      [...problems, ...checked.problems],
      files.map((f) => f.file),
    ),
  };
}

/**
 * Validates parsed layouts against `metadata/schema/layout.schema.json` and against the modules:
 * the layout's module and folder, block fields, hidden fields, related lists (module, relation back to
 * this module, columns, sort keys, filter) and unique ids. Fields in neither a block nor `hidden` are
 * allowed. Checks run on bodies that fail the schema too, so one run reports every problem.
 *
 * @param layouts the bodies with the file each belongs to (`modules/<module>/layout.json`)
 * @param modules the modules the layouts and their related lists refer to (all of them)
 */
export function validateLayouts(layouts: LayoutSource[], modules: ModuleDefinition[]): LayoutValidationResult {
  const checked = checkLayouts(layouts, modules);
  return { layouts: checked.layouts.map((l) => l.layout), problems: checked.problems };
}

function checkLayouts(
  layouts: LayoutSource[],
  modules: ModuleDefinition[],
): { layouts: Array<{ file: string; layout: LayoutDefinition }>; problems: MetadataProblem[] } {
  const byName = new Map(modules.map((m) => [m.name, m]));
  const firstFileByModule = new Map<string, string>();
  const result: ReturnType<typeof checkLayouts> = { layouts: [], problems: [] };
  for (const { file, body } of layouts) {
    const found = [...checkSchema(file, body), ...checkSemantics(file, body, byName, firstFileByModule)];
    result.problems.push(...found);
    // The schema has passed, so the cast only names what is already true.
    if (found.length === 0) result.layouts.push({ file, layout: withDefaults(body as LayoutDefinition) });
  }
  return result;
}

function withDefaults(layout: LayoutDefinition): LayoutDefinition {
  return {
    ...layout,
    blocks: layout.blocks.map((b) => ({ ...b, columns: b.columns ?? DEFAULT_BLOCK_COLUMNS, collapsed: b.collapsed ?? false })),
    hidden: layout.hidden ?? [],
    relatedLists: (layout.relatedLists ?? []).map((r) => ({ ...r, pageSize: r.pageSize ?? DEFAULT_RELATED_PAGE_SIZE })),
    tools: layout.tools ?? [],
  };
}

// ---- semantics ------------------------------------------------------------------------------------------

function checkSemantics(
  file: string,
  body: unknown,
  modules: Map<string, ModuleDefinition>,
  firstFileByModule: Map<string, string>,
): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const report = (pointer: string, message: string) => problems.push({ file, pointer, message });
  if (!isObject(body)) return problems;

  let module: ModuleDefinition | undefined;
  if (typeof body.module === 'string' && NAME.test(body.module)) {
    const folder = layoutFolderOf(file);
    if (folder !== undefined && folder !== body.module) {
      report(
        '/module',
        `module ${JSON.stringify(body.module)} does not match the folder ${JSON.stringify(folder)}; a layout belongs to the module of its folder`,
      );
    }
    module = modules.get(body.module);
    if (!module) report('/module', unknownModule(body.module, modules));
    const first = firstFileByModule.get(body.module);
    if (first !== undefined)
      report('/module', `module ${JSON.stringify(body.module)} already has a layout in ${first}; a module has one layout`);
    else firstFileByModule.set(body.module, file);
  }

  // Where each field is shown: its block and pointer, to name the first place in later reports.
  const placed = new Map<string, { block: number; pointer: string }>();
  uniqueIds(body.blocks, '/blocks', 'block', report);
  elements(body.blocks).forEach((block, b) => {
    if (!isObject(block)) return;
    const blockName = typeof block.id === 'string' ? JSON.stringify(block.id) : `#${b}`;
    elements(block.fields).forEach((field, f) => {
      const pointer = `/blocks/${b}/fields/${f}`;
      if (!isName(field) || !module) return;
      if (!hasField(module, field)) return report(pointer, unknownField(field, module));
      const first = placed.get(field);
      if (!first) return void placed.set(field, { block: b, pointer });
      report(
        pointer,
        first.block === b
          ? `field ${JSON.stringify(field)} is listed twice in block ${blockName} (first at ${first.pointer}); remove one`
          : `field ${JSON.stringify(field)} is already in block ${blockTitle(body.blocks, first.block)} (${first.pointer}); a field can be in one block only`,
      );
    });
  });

  elements(body.hidden).forEach((field, h) => {
    if (!isName(field) || !module) return;
    if (!hasField(module, field)) return report(`/hidden/${h}`, unknownField(field, module));
    const shown = placed.get(field);
    if (shown) {
      report(
        `/hidden/${h}`,
        `field ${JSON.stringify(field)} is hidden but also shown in block ${blockTitle(body.blocks, shown.block)} (${shown.pointer}); remove it from one of them`,
      );
    }
  });

  uniqueIds(body.relatedLists, '/relatedLists', 'related list', report);
  const owner = module?.name ?? (isName(body.module) ? body.module : undefined);
  elements(body.relatedLists).forEach((list, i) => {
    if (!isObject(list)) return;
    const at = `/relatedLists/${i}`;
    const target = isName(list.module) ? modules.get(list.module) : undefined;
    if (isName(list.module) && !target) report(`${at}/module`, unknownModule(list.module, modules));
    checkRelatedList(list, at, target, owner, report);
  });
  return problems;
}

/** Reports each `id` in `items` that an earlier item already has, at `<base>/<index>/id`. */
function uniqueIds(items: unknown, base: string, what: string, report: (pointer: string, message: string) => void): void {
  const first = new Map<string, number>();
  elements(items).forEach((item, i) => {
    if (!isObject(item) || !isName(item.id)) return;
    const earlier = first.get(item.id);
    if (earlier === undefined) first.set(item.id, i);
    else
      report(
        `${base}/${i}/id`,
        `${what} id ${JSON.stringify(item.id)} is already used by ${what} ${earlier} (${base}/${earlier}); ids must be unique`,
      );
  });
}

/** Relation, columns, sort and filter of one related list; `target` is its module when known. */
function checkRelatedList(
  list: JsonObject,
  at: string,
  target: ModuleDefinition | undefined,
  owner: string | undefined,
  report: (pointer: string, message: string) => void,
): void {
  // The filter's schema errors come from the condition validator, which words them for conditions.
  if ('filter' in list) {
    const found = target ? validateCondition(list.filter, target, `${at}/filter`) : checkConditionSchema(list.filter, `${at}/filter`);
    for (const { pointer, message } of [...found, ...filterShapeProblems(list.filter, `${at}/filter`)]) report(pointer, message);
  }
  if (!target) return;
  if (isName(list.relation)) {
    const problem = relationProblem(target, list.relation, owner);
    if (problem) report(`${at}/relation`, problem);
  }
  elements(list.columns).forEach((column, c) => {
    if (isName(column) && !SYSTEM_KEYS.has(column) && !hasField(target, column))
      report(`${at}/columns/${c}`, unknownField(column, target, true));
  });
  // A sort the schema rejects (e.g. with spaces) is not split into keys: that would only add noise.
  if (typeof list.sort === 'string' && SORT.test(list.sort)) {
    const problem = sortProblem(target, list.sort);
    if (problem) report(`${at}/sort`, problem);
  }
}

/** What the list query cannot run: other condition kinds, nesting, and operators without a list filter. */
function filterShapeProblems(filter: unknown, pointer: string): Array<{ pointer: string; message: string }> {
  if (!isObject(filter)) return [];
  const parts = Array.isArray(filter.all)
    ? filter.all.map((part, i) => [part, `${pointer}/all/${i}`] as const)
    : [[filter, pointer] as const];
  const problems: Array<{ pointer: string; message: string }> = [];
  for (const [part, at] of parts) {
    if (!isObject(part)) continue;
    if ('field' in part) {
      if (typeof part.op === 'string' && !LIST_FILTER_OPS.includes(part.op)) {
        problems.push({
          pointer: `${at}/op`,
          message: `${JSON.stringify(part.op)} cannot be used in a related-list filter, which runs as a list query; use one of ${LIST_FILTER_OPS.join(', ')}`,
        });
      }
      continue;
    }
    const kind = ['all', 'any', 'not', 'expression'].find((k) => k in part);
    if (kind === undefined) continue;
    problems.push({
      pointer: `${at}/${kind}`,
      message: `a related-list filter runs as a list query: it takes field conditions {"field", "op", "value"}, optionally inside one top-level "all"; ${JSON.stringify(kind)} is not supported ${at === pointer ? 'here' : 'inside "all"'}`,
    });
  }
  return problems;
}

/** Why `relation` of `target` cannot link a related list to `owner`, or undefined when it can. */
function relationProblem(target: ModuleDefinition, relation: string, owner: string | undefined): string | undefined {
  const field: FieldDefinition | undefined = hasField(target, relation) ? target.fields[relation] : undefined;
  const candidates = Object.entries(target.fields)
    .filter(([, f]) => f.type === 'relation' && f.module === owner)
    .map(([name]) => name);
  const hint =
    owner === undefined
      ? ''
      : candidates.length > 0
        ? `; relation fields of ${target.name} that point to ${owner}: ${candidates.join(', ')}`
        : `; ${target.name} has no relation field pointing to ${owner}, so it cannot be a related list here`;
  if (!field)
    return `unknown field ${JSON.stringify(relation)} of module ${target.name}${didYouMean(relation, Object.keys(target.fields))}` + hint;
  if (field.type !== 'relation')
    return `field ${JSON.stringify(relation)} of ${target.name} is ${withArticle(field.type)} field, not a relation` + hint;
  if (owner !== undefined && field.module !== owner) {
    return `relation ${JSON.stringify(relation)} of ${target.name} points to ${String(field.module)}, not to ${owner}` + hint;
  }
  return undefined;
}

/** Why a related list's sort does not fit its module, or undefined when it fits. */
function sortProblem(target: ModuleDefinition, sort: string): string | undefined {
  const seen = new Set<string>();
  for (const part of sort.split(',')) {
    const key = part.startsWith('-') ? part.slice(1) : part;
    if (seen.has(key)) return `sort key ${JSON.stringify(key)} appears twice`;
    seen.add(key);
    if (SYSTEM_KEYS.has(key)) continue;
    const field = hasField(target, key) ? target.fields[key] : undefined;
    if (!field) return `unknown sort key ${JSON.stringify(key)}: not a field of ${target.name} nor one of ${LAYOUT_SYSTEM_KEYS.join(', ')}`;
    if (UNSORTABLE_TYPES.has(field.type)) return `cannot sort by ${JSON.stringify(key)}: ${withArticle(field.type)} field has no order`;
  }
  return undefined;
}

function unknownModule(name: string, modules: Map<string, ModuleDefinition>): string {
  const known = [...modules.keys()].sort();
  return `unknown module ${JSON.stringify(name)}${didYouMean(name, known)}; known modules: ${known.join(', ') || '(none)'}`;
}

function unknownField(name: string, module: ModuleDefinition, withSystemKeys = false): string {
  const names = [...Object.keys(module.fields), ...(withSystemKeys ? LAYOUT_SYSTEM_KEYS : [])];
  return `unknown field ${JSON.stringify(name)} of module ${module.name}${didYouMean(name, names)}; its fields: ${names.join(', ')}`;
}

function blockTitle(blocks: unknown, index: number): string {
  const block = elements(blocks)[index];
  return isObject(block) && typeof block.id === 'string' ? JSON.stringify(block.id) : `#${index}`;
}

// ---- schema ---------------------------------------------------------------------------------------------

let compiled: ValidateFunction | undefined;
const FILTER_PATH = /^\/relatedLists\/\d+\/filter(\/|$)/;

function getCompiled(): ValidateFunction {
  // Compiled once per process: compiling is by far the most expensive step of validation.
  if (compiled) return compiled;
  const root = findProjectRoot();
  const read = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as JsonObject;
  const schema = read(LAYOUT_SCHEMA_PATH);
  // Same ajv options as the module schema: strict, except strictRequired (ajv issue #1950).
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  // Related-list filters $ref the condition language by its $id; without that schema they cannot compile.
  if (!existsSync(join(root, CONDITION_SCHEMA_PATH))) {
    throw new Error(`${LAYOUT_SCHEMA_PATH} refers to the condition language, but ${CONDITION_SCHEMA_PATH} is missing`);
  }
  ajv.addSchema(read(CONDITION_SCHEMA_PATH));
  compiled = ajv.compile(schema);
  return compiled;
}

/** Validates one parsed layout body against the JSON Schema and returns readable problems. */
function checkSchema(file: string, body: unknown): MetadataProblem[] {
  const validate = getCompiled();
  if (validate(body)) return [];
  const errors = validate.errors ?? [];
  return (
    errors
      // Property names are reported by propertyNames; a filter by the condition validator (see checkRelatedList).
      .filter((error) => error.propertyName === undefined && error.keyword !== 'if' && !FILTER_PATH.test(error.instancePath))
      .map((error) => ({ file, ...describe(error) }))
  );
}

const PATTERN_MESSAGES: Record<string, (value: string) => string> = {
  [NAME_PATTERN]: (v) =>
    `${JSON.stringify(v)} is not a valid name: use lower snake case (a-z, 0-9 and _), starting with a letter, at most 48 characters`,
  '^([a-z][a-z0-9_]{0,47}|createdAt|updatedAt)$': (v) =>
    `${JSON.stringify(v)} is not a column: use a field name of the listed module, or number, createdAt, updatedAt`,
  '^-?[A-Za-z][A-Za-z0-9_]*(,-?[A-Za-z][A-Za-z0-9_]*)*$': (v) =>
    `${JSON.stringify(v)} is not a sort: use comma-separated keys without spaces, "-" for descending, e.g. "-createdAt,name"`,
  '^[a-z]{2,3}(-[A-Z]{2}|-[A-Z][a-z]{3})?$': (v) => `${JSON.stringify(v)} is not a language code; use codes like en, sv or pt-BR`,
};

function describe(error: ErrorObject): { pointer: string; message: string } {
  const pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as JsonObject;
  switch (error.keyword) {
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      const allowed = Object.keys((schema.properties ?? {}) as JsonObject);
      return {
        pointer: `${pointer}/${escapePointerSegment(property)}`,
        message: `unknown property ${JSON.stringify(property)}${didYouMean(property, allowed)}; allowed: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const property = String(params.missingProperty);
      const help = ((schema.properties as JsonObject | undefined)?.[property] as JsonObject | undefined)?.description;
      return { pointer, message: `missing required property ${JSON.stringify(property)}` + (typeof help === 'string' ? ` (${help})` : '') };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const pattern = String((schema.propertyNames as JsonObject | undefined)?.pattern);
      const message = PATTERN_MESSAGES[pattern]?.(name) ?? `${JSON.stringify(name)} is not an allowed key`;
      return { pointer: `${pointer}/${escapePointerSegment(name)}`, message };
    }
    case 'pattern':
      return { pointer, message: PATTERN_MESSAGES[String(params.pattern)]?.(String(error.data)) ?? `must match ${String(params.pattern)}` };
    case 'type':
      return { pointer, message: `must be ${article(String(params.type))} (got ${describeValue(error.data)})` };
    case 'minimum':
    case 'maximum':
      return {
        pointer,
        message: `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)} (is ${JSON.stringify(error.data)})`,
      };
    case 'minItems':
      return { pointer, message: `must list at least ${String(params.limit)} value(s)` };
    case 'maxItems':
      return { pointer, message: `must list at most ${String(params.limit)} values (lists ${String((error.data as unknown[]).length)})` };
    case 'minLength':
      return { pointer, message: params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'minProperties':
      return { pointer, message: 'must have text for at least one language, e.g. {"en": "..."}' };
    case 'uniqueItems': {
      const list = error.data as unknown[];
      return {
        pointer,
        message: `must not list a value twice: ${JSON.stringify(list[Number(params.i)])} is at positions ${String(params.j)} and ${String(params.i)}`,
      };
    }
    default:
      return { pointer, message: error.message ?? `fails ${error.keyword}` };
  }
}

// ---- small helpers --------------------------------------------------------------------------------------

/** Groups problems by file in the order the files were given, keeping each file's order of discovery. */
function sortByFile(problems: MetadataProblem[], fileOrder: string[]): MetadataProblem[] {
  const rank = new Map<string, number>();
  fileOrder.forEach((file, i) => rank.has(file) || rank.set(file, i));
  return [...problems].sort((a, b) => (rank.get(a.file) ?? Infinity) - (rank.get(b.file) ?? Infinity));
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A well-formed name; badly formed ones are reported by the schema, so they are not looked up. */
function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

function elements(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function hasField(module: ModuleDefinition, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(module.fields, name);
}

/** ` (did you mean "x"?)` for a likely typo, else empty. */
function didYouMean(word: string, candidates: readonly string[]): string {
  const suggestion = closestName(word, candidates);
  return suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '';
}
