import type { ErrorObject } from 'ajv';
import sanitizeHtml from 'sanitize-html';
import type { FieldError } from '../common/app.exception';
import type { CompiledModule } from '../metadata/compiled-module';

export type RecordData = Record<string, unknown>;

/** Turns ajv's errors into field errors an integrator can act on. */
export function toFieldErrors(module: CompiledModule, errors: ErrorObject[] | null | undefined): FieldError[] {
  const result: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    const field = pathOf(error.instancePath);
    let entry: FieldError;
    switch (error.keyword) {
      case 'additionalProperties': {
        const name = String(error.params.additionalProperty);
        const at = field ? `${field}.${name}` : name;
        const system = module.fields.has(name) ? 'is computed by the engine and cannot be written' : `is not a field of ${module.name}`;
        entry = { field: at, code: 'unknown_field', message: `"${at}" ${system}` };
        break;
      }
      case 'required': {
        const name = String(error.params.missingProperty);
        const at = field ? `${field}.${name}` : name;
        entry = { field: at, code: 'required', message: `"${at}" is required` };
        break;
      }
      case 'enum':
        entry = {
          field,
          code: 'not_an_option',
          message: `"${field}" must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        };
        break;
      case 'maxLength':
        entry = { field, code: 'too_long', message: `"${field}" must be at most ${error.params.limit} characters` };
        break;
      case 'type':
        entry = { field, code: 'wrong_type', message: `"${field}" must be ${describeType(error.params.type)}` };
        break;
      case 'format':
        entry = { field, code: 'invalid_format', message: `"${field}" must be a valid ${error.params.format}` };
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        entry = { field, code: 'out_of_range', message: `"${field}" ${error.message}` };
        break;
      default:
        entry = { field: field || '(record)', code: error.keyword, message: `"${field || 'the record'}" ${error.message}` };
    }
    const key = `${entry.field}|${entry.code}`;
    if (!seen.has(key)) {
      seen.add(key);
      result.push(entry);
    }
  }
  return result;
}

/** `/lines/2/price` → `lines[2].price` */
function pathOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeType(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types
    .map((t) => (t === 'integer' ? 'an integer' : t === 'array' ? 'an array' : t === 'object' ? 'an object' : `a ${t}`))
    .join(' or ');
}

/** Values as stored: empty (null) fields are left out, datetimes in UTC ISO form, rich text sanitised. */
export function normalize(module: CompiledModule, data: RecordData): RecordData {
  const result: RecordData = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === null) continue;
    result[key] = value;
  }
  // Ids compare as text in JSON, so relation values are stored in one case (UUIDs are case-insensitive).
  for (const relation of module.relations) {
    if (relation.lines) {
      const rows = result[relation.lines];
      if (Array.isArray(rows)) {
        for (const row of rows as RecordData[]) {
          if (typeof row?.[relation.field] === 'string') row[relation.field] = (row[relation.field] as string).toLowerCase();
        }
      }
    } else if (typeof result[relation.field] === 'string') {
      result[relation.field] = (result[relation.field] as string).toLowerCase();
    }
  }
  for (const field of module.datetimeFields) {
    if (typeof result[field] === 'string') result[field] = new Date(result[field] as string).toISOString();
  }
  for (const field of module.richtextFields) {
    if (typeof result[field] === 'string') result[field] = sanitizeHtml(result[field] as string);
  }
  return result;
}

/** Every related record id the data points to, with the module it must belong to and where it sits. */
export function relationRefs(module: CompiledModule, data: RecordData): Array<{ path: string; id: string; target: string }> {
  const refs: Array<{ path: string; id: string; target: string }> = [];
  for (const relation of module.relations) {
    if (relation.lines) {
      const rows = data[relation.lines];
      if (!Array.isArray(rows)) continue;
      rows.forEach((row: RecordData, i) => {
        const id = row?.[relation.field];
        if (typeof id === 'string') refs.push({ path: `${relation.lines}[${i}].${relation.field}`, id, target: relation.target });
      });
    } else if (typeof data[relation.field] === 'string') {
      refs.push({ path: relation.field, id: data[relation.field] as string, target: relation.target });
    }
  }
  return refs;
}

export function isPlainObject(value: unknown): value is RecordData {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep equality for JSON values (what a field holds). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameJson((a as RecordData)[k], (b as RecordData)[k]));
}
