import { NAME_PATTERN, RESERVED_FIELD_NAMES, RESERVED_MODULE_NAMES, type MetadataProblem } from './metadata.types';
import { escapePointerSegment } from './json-source';

/** One module body with the file it came from (`modules/<name>/module.json`). */
export interface ModuleSource {
  file: string;
  body: unknown;
}

type JsonObject = Record<string, unknown>;

const NAME = new RegExp(NAME_PATTERN);
const RESERVED = new Set<string>(RESERVED_FIELD_NAMES);
const TEXT_TYPES = new Set(['text', 'textarea', 'richtext', 'phone', 'email', 'url']);
const NUMBER_TYPES = new Set(['decimal', 'currency', 'percent']);

/** The module folder of a file path like `modules/accounts/module.json`, if it has that shape. */
export function moduleFolderOf(file: string): string | undefined {
  return /(?:^|\/)modules\/([^/]+)\/module\.json$/.exec(file)?.[1];
}

/**
 * Checks what JSON Schema cannot express: names against folders and each other, relations against the
 * set of modules, defaults against their field, min against max, reserved names.
 * Works on bodies that failed the schema too (every access is guarded), so one run reports everything.
 *
 * @param sources the module bodies being validated together
 * @param extraKnownModules module names that exist but whose body could not be read (e.g. a JSON syntax
 *   error), so relations to them are not reported as unknown on top of the syntax error
 */
export function checkModuleSemantics(sources: ModuleSource[], extraKnownModules: Iterable<string> = []): MetadataProblem[] {
  const known = new Set<string>(extraKnownModules);
  for (const { body } of sources) {
    if (isObject(body) && typeof body.name === 'string') known.add(body.name);
  }

  const problems: MetadataProblem[] = [];
  const firstFileByName = new Map<string, string>();
  for (const { file, body } of sources) {
    const report = (pointer: string, message: string) => problems.push({ file, pointer, message });
    if (!isObject(body)) continue;

    if (typeof body.name === 'string') {
      const folder = moduleFolderOf(file);
      if (folder !== undefined && body.name !== folder) {
        report(
          '/name',
          `module name ${JSON.stringify(body.name)} does not match its folder ${JSON.stringify(folder)}; rename one so they are equal`,
        );
      }
      if (RESERVED_MODULE_NAMES.includes(body.name as (typeof RESERVED_MODULE_NAMES)[number])) {
        report('/name', `${JSON.stringify(body.name)} is reserved for the engine's own API paths; choose another module name`);
      }
      const first = firstFileByName.get(body.name);
      if (first !== undefined) {
        report('/name', `module ${JSON.stringify(body.name)} is already defined in ${first}; module names must be unique`);
      } else {
        firstFileByName.set(body.name, file);
      }
    }

    if (!isObject(body.fields)) continue;
    for (const [name, field] of Object.entries(body.fields)) {
      const pointer = `/fields/${escapePointerSegment(name)}`;
      if (RESERVED.has(name)) {
        report(
          pointer,
          `${JSON.stringify(name)} is reserved for a system property of every record (${RESERVED_FIELD_NAMES.join(', ')}); choose another field name`,
        );
      }
      checkField(pointer, field, known, report);
      if (isObject(field) && field.type === 'lines' && isObject(field.fields)) {
        for (const [lineName, lineField] of Object.entries(field.fields)) {
          checkField(`${pointer}/fields/${escapePointerSegment(lineName)}`, lineField, known, report);
        }
      }
    }
  }
  return problems;
}

function checkField(pointer: string, field: unknown, known: Set<string>, report: (pointer: string, message: string) => void): void {
  if (!isObject(field) || typeof field.type !== 'string') return;
  const type = field.type;

  if (type === 'autonumber' && field.required === true) {
    report(
      `${pointer}/required`,
      'an autonumber is assigned by the engine when the record is saved, so it cannot be required; remove "required"',
    );
  }
  // A badly formed name is already reported by the schema; only well-formed names are looked up.
  if (type === 'relation' && typeof field.module === 'string' && NAME.test(field.module) && !known.has(field.module)) {
    report(
      `${pointer}/module`,
      `unknown module ${JSON.stringify(field.module)}; known modules: ${[...known].sort().join(', ') || '(none)'}`,
    );
  }
  if (isNumber(field.min) && isNumber(field.max) && field.min > field.max) {
    report(`${pointer}/min`, `min (${field.min}) is greater than max (${field.max}); no value could be saved`);
  }
  // null means "no default", like leaving the key out.
  if (field.default !== undefined && field.default !== null) {
    const problem = defaultProblem(type, field);
    if (problem) report(`${pointer}/default`, problem);
  }
}

/** Why a field's default does not fit the field, or undefined when it fits. */
function defaultProblem(type: string, field: JsonObject): string | undefined {
  const value = field.default;
  const shown = JSON.stringify(value);
  if (TEXT_TYPES.has(type) || type === 'relation' || type === 'user') {
    if (typeof value !== 'string') return `default must be a string for ${withArticle(type)} field (is ${shown})`;
    if (isNumber(field.maxLength) && value.length > field.maxLength) {
      return `default is ${value.length} characters long, more than maxLength ${field.maxLength}`;
    }
    if (type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return `default ${shown} is not an email address`;
    if (type === 'url' && !isHttpUrl(value)) return `default ${shown} is not an http(s) URL`;
    return undefined;
  }
  if (type === 'integer' || NUMBER_TYPES.has(type)) {
    if (type === 'integer' ? !Number.isInteger(value) : !isNumber(value)) {
      return `default must be ${type === 'integer' ? 'an integer' : 'a number'} for ${withArticle(type)} field (is ${shown})`;
    }
    const number = value as number;
    if (isNumber(field.min) && number < field.min) return `default ${number} is below min ${field.min}`;
    if (isNumber(field.max) && number > field.max) return `default ${number} is above max ${field.max}`;
    return undefined;
  }
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : `default must be true or false (is ${shown})`;
  if (type === 'date') return isIsoDate(value) ? undefined : `default must be a date as "YYYY-MM-DD" (is ${shown})`;
  if (type === 'datetime') {
    return isIsoDateTime(value) ? undefined : `default must be an ISO 8601 date-time with zone, e.g. "2024-01-31T09:00:00Z" (is ${shown})`;
  }
  const options = Array.isArray(field.options) ? field.options.filter((o): o is string => typeof o === 'string') : undefined;
  if (type === 'picklist') {
    if (typeof value !== 'string') return `default must be one of the options as a string (is ${shown})`;
    if (options && !options.includes(value)) return `default ${shown} is not one of the options: ${options.join(', ')}`;
    return undefined;
  }
  if (type === 'multipicklist') {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      return `default must be a list of options, e.g. [${options?.[0] ? JSON.stringify(options[0]) : ''}] (is ${shown})`;
    }
    const unknown = options ? value.filter((item) => !options.includes(item)) : [];
    if (unknown.length > 0)
      return `default lists ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not among the options: ${options?.join(', ')}`;
    if (new Set(value).size !== value.length) return 'default lists an option twice';
    return undefined;
  }
  // lines and autonumber take no default; the schema reports that.
  return undefined;
}

function withArticle(word: string): string {
  return (/^[aeio]/.test(word) ? 'an ' : 'a ') + word;
}

function isIsoDate(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  // Round-trip through Date to reject days like 2024-02-30.
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function isIsoDateTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  return match !== null && isIsoDate(match[1]) && !Number.isNaN(Date.parse(value));
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
