import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { NAME_PATTERN, type MetadataProblem } from './metadata.types';
import { escapePointerSegment } from './json-source';
import { findProjectRoot } from './metadata-files';

/** Path of the module schema, relative to the project root. */
export const MODULE_SCHEMA_PATH = 'metadata/schema/module.schema.json';

type JsonObject = Record<string, unknown>;

interface CompiledModuleSchema {
  schema: JsonObject;
  validate: ValidateFunction;
  /** Per field option: the field types it applies to (options missing here apply to every type). */
  optionTypes: Map<string, OptionTypes>;
  /** Options a field inside lines may not have (`false` in $defs/lineField). */
  lineForbidden: Set<string>;
  fieldSchema: JsonObject;
}

let compiled: CompiledModuleSchema | undefined;

/** The module schema as JSON, read once from the project's metadata folder. */
export function getModuleSchema(): JsonObject {
  return getCompiled().schema;
}

/** Validates one parsed module body against the JSON Schema and returns readable problems. */
export function checkModuleSchema(file: string, body: unknown): MetadataProblem[] {
  const state = getCompiled();
  if (state.validate(body)) return [];
  return toProblems(state, file, body, state.validate.errors ?? []);
}

function getCompiled(): CompiledModuleSchema {
  // Compiled once per process: ajv compilation is by far the most expensive step of validation.
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(join(findProjectRoot(), MODULE_SCHEMA_PATH), 'utf8')) as JsonObject;
  // strictRequired stays off: it cannot see properties declared next to an if/then that lists them in
  // `required` (ajv issue #1950); every other strict check is on.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const defs = schema.$defs as Record<string, JsonObject>;
  compiled = {
    schema,
    validate,
    optionTypes: readOptionTypes(defs.field),
    lineForbidden: new Set(
      Object.entries((defs.lineField.properties ?? {}) as JsonObject)
        .filter(([, value]) => value === false)
        .map(([key]) => key),
    ),
    fieldSchema: defs.field,
  };
  return compiled;
}

/** Which field types accept an option, with the phrase used to explain it. */
interface OptionTypes {
  accepted: Set<string>;
  phrase: string;
}

/** Reads the schema's allOf if/then/else entries into "option → field types that accept it". */
function readOptionTypes(fieldSchema: JsonObject): Map<string, OptionTypes> {
  const allTypes = ((fieldSchema.properties as JsonObject).type as JsonObject).enum as string[];
  const result = new Map<string, OptionTypes>();
  for (const entry of (fieldSchema.allOf ?? []) as JsonObject[]) {
    const condition = ((entry.if as JsonObject | undefined)?.properties as JsonObject | undefined)?.type as JsonObject | undefined;
    if (!condition) continue;
    const listed = (condition.enum as string[] | undefined) ?? [condition.const as string];
    // 'else: false' means only the listed types accept it; 'then: false' means all but the listed.
    const branches = [
      ['else', listed, `only for ${listed.join(', ')}`],
      ['then', allTypes.filter((type) => !listed.includes(type)), `not for ${listed.join(', ')}`],
    ] as const;
    for (const [branch, accepted, phrase] of branches) {
      const props = ((entry[branch] as JsonObject | undefined)?.properties ?? {}) as JsonObject;
      for (const [option, value] of Object.entries(props)) {
        if (value !== false) continue;
        const previous = result.get(option);
        const types = previous ? accepted.filter((type) => previous.accepted.has(type)) : [...accepted];
        result.set(option, { accepted: new Set(types), phrase: previous ? `only for ${types.join(', ')}` : phrase });
      }
    }
  }
  return result;
}

function toProblems(state: CompiledModuleSchema, file: string, body: unknown, errors: ErrorObject[]): MetadataProblem[] {
  // Fields whose own type is wrong or missing: "options not allowed on a colour field" would be noise.
  const badTypeFields = new Set<string>();
  for (const error of errors) {
    if (error.instancePath.endsWith('/type') && error.keyword === 'enum') {
      badTypeFields.add(error.instancePath.slice(0, -'/type'.length));
    }
    if (error.keyword === 'required' && error.params.missingProperty === 'type') badTypeFields.add(error.instancePath);
  }

  const problems: MetadataProblem[] = [];
  const forbidden = new Set<string>();
  for (const error of errors) {
    // 'if' only summarises the then/else errors that are reported on their own.
    if (error.keyword === 'if') continue;
    // An option can be forbidden twice (by its type and by being inside lines); one report is enough.
    if (error.keyword === 'false schema') {
      if (forbidden.has(error.instancePath)) continue;
      forbidden.add(error.instancePath);
    }
    // Property name errors arrive twice: once from the inner pattern, once as propertyNames.
    if (error.propertyName !== undefined) continue;
    const conditional = /\/(then|else)\//.test(error.schemaPath);
    if (conditional) {
      const fieldPointer = error.keyword === 'required' ? error.instancePath : parentPointer(error.instancePath);
      if (badTypeFields.has(fieldPointer)) continue;
    }
    problems.push(describe(state, file, body, error));
  }
  return problems;
}

function describe(state: CompiledModuleSchema, file: string, body: unknown, error: ErrorObject): MetadataProblem {
  const at = (pointer: string, message: string): MetadataProblem => ({ file, pointer, message });
  const pointer = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const parentSchema = (error.parentSchema ?? {}) as JsonObject;

  switch (error.keyword) {
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      const allowed = allowedProperties(state, pointer, getAt(body, pointer), parentSchema);
      const suggestion = closest(property, allowed);
      return at(
        `${pointer}/${escapePointerSegment(property)}`,
        `unknown property ${JSON.stringify(property)}` +
          (suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : '') +
          `; allowed: ${allowed.join(', ')}`,
      );
    }
    case 'required': {
      const property = String(params.missingProperty);
      if (/\/then\//.test(error.schemaPath)) {
        const type = String((getAt(body, pointer) as JsonObject).type);
        return at(pointer, `${withArticle(type)} field needs ${JSON.stringify(property)}: ${optionHint(state, property)}`);
      }
      const help = ((parentSchema.properties as JsonObject | undefined)?.[property] as JsonObject | undefined)?.description;
      return at(pointer, `missing required property ${JSON.stringify(property)}` + (help ? ` (${help})` : ''));
    }
    case 'false schema': {
      const segments = pointer.split('/');
      const option = unescape(segments[segments.length - 1]);
      const field = getAt(body, parentPointer(pointer)) as JsonObject;
      const types = state.optionTypes.get(option);
      if (types && !types.accepted.has(String(field.type))) {
        return at(
          pointer,
          `${JSON.stringify(option)} does not apply to ${withArticle(String(field.type))} field` + ` (${types.phrase}); remove it`,
        );
      }
      return at(pointer, `${JSON.stringify(option)} is not allowed on a field inside lines; set it on the lines field itself`);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      const value = JSON.stringify(error.data);
      if (pointer.endsWith('/type')) {
        const inLines = /^\/fields\/[^/]+\/fields\/[^/]+\/type$/.test(pointer);
        const known = typeof error.data === 'string' && isFieldType(state, error.data);
        return at(
          pointer,
          (known && inLines ? `a field inside lines cannot be of type ${value}` : `unknown field type ${value}`) +
            `; must be one of ${allowed}`,
        );
      }
      return at(pointer, `${value} is not allowed; must be one of ${allowed}`);
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const target = `${pointer}/${escapePointerSegment(name)}`;
      const pattern = (parentSchema.propertyNames as JsonObject | undefined)?.pattern;
      return at(target, pattern === NAME_PATTERN ? nameMessage(name) : languageMessage(name));
    }
    case 'pattern':
      return at(pointer, params.pattern === NAME_PATTERN ? nameMessage(String(error.data)) : `must match ${String(params.pattern)}`);
    case 'type':
      return at(pointer, `must be ${article(String(params.type))} (got ${kindOf(error.data)})`);
    case 'minLength':
      return at(pointer, params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long`);
    case 'maxLength':
      return at(pointer, `must be at most ${String(params.limit)} characters long (is ${String((error.data as string).length)})`);
    case 'minimum':
    case 'maximum':
      return at(
        pointer,
        `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)} (is ${JSON.stringify(error.data)})`,
      );
    case 'minItems':
      return at(pointer, `must list at least ${String(params.limit)} value(s)`);
    case 'minProperties': {
      const isFieldMap = (parentSchema.propertyNames as JsonObject | undefined)?.pattern === NAME_PATTERN;
      return at(pointer, isFieldMap ? 'must define at least one field' : 'must have text for at least one language, e.g. {"en": "..."}');
    }
    case 'uniqueItems': {
      const list = error.data as unknown[];
      return at(
        pointer,
        `must not list a value twice: ${JSON.stringify(list[Number(params.i)])} is at positions ${String(params.j)} and ${String(params.i)}`,
      );
    }
    case 'format':
      return at(pointer, `must be a valid ${String(params.format)}`);
    default:
      return at(pointer, error.message ?? `fails ${error.keyword}`);
  }
}

/** Properties the object at `pointer` may have; for a field, only those that fit its type. */
function allowedProperties(state: CompiledModuleSchema, pointer: string, value: unknown, schema: JsonObject): string[] {
  const all = Object.keys((schema.properties ?? {}) as JsonObject);
  if (schema !== state.fieldSchema || !isObject(value) || typeof value.type !== 'string') return all;
  const type = value.type;
  const inLines = /^\/fields\/[^/]+\/fields\/[^/]+$/.test(pointer);
  return all.filter((option) => {
    if (inLines && state.lineForbidden.has(option)) return false;
    const types = state.optionTypes.get(option);
    return !types || !isFieldType(state, type) || types.accepted.has(type);
  });
}

function optionHint(state: CompiledModuleSchema, option: string): string {
  const description = ((state.fieldSchema.properties as JsonObject)[option] as JsonObject | undefined)?.description;
  // The schema's descriptions start with the types they apply to ("picklist, multipicklist: ..."); drop that.
  return typeof description === 'string' ? description.replace(/^[a-z, ]+: /, '') : 'add it';
}

function isFieldType(state: CompiledModuleSchema, type: string): boolean {
  return (((state.fieldSchema.properties as JsonObject).type as JsonObject).enum as string[]).includes(type);
}

function nameMessage(name: string): string {
  return `${JSON.stringify(name)} is not a valid name: use lower snake case (a-z, 0-9 and _), starting with a letter, at most 48 characters`;
}

function languageMessage(code: string): string {
  return `${JSON.stringify(code)} is not a language code; use codes like en, sv or pt-BR`;
}

/** "a text", "an integer": a word with its indefinite article, for messages. */
export function withArticle(word: string): string {
  return (/^[aeio]/.test(word) ? 'an ' : 'a ') + word;
}

/** A JSON Schema type as words ("an object", "true or false"). */
export function article(type: string): string {
  const names: Record<string, string> = {
    object: 'an object',
    array: 'an array',
    integer: 'an integer',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The closest name within edit distance 2, to catch typos like "requried". */
function closest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parentPointer(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The value at an RFC 6901 pointer, or undefined. */
export function getAt(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current: unknown = document;
  for (const segment of pointer.slice(1).split('/').map(unescape)) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as JsonObject)[segment];
  }
  return current;
}
