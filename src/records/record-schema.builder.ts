import type { FieldDefinition, ModuleDefinition } from '../metadata/metadata.types';

/**
 * JSON Schema 2020-12 for records, derived from module metadata. One schema serves two readers:
 * ajv (`ajv/dist/2020`, strict, ajv-formats) validating writes, and the OpenAPI 3.1 document,
 * whose Schema Object is JSON Schema 2020-12. So only standard keywords are used, and union
 * types are limited to `[T, "null"]`, the one union ajv's strictTypes accepts.
 */

export type JsonSchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** The subset of JSON Schema 2020-12 the builders emit. */
export interface JsonSchemaObject {
  title?: string;
  description?: string;
  type?: JsonSchemaType | JsonSchemaType[];
  properties?: Record<string, JsonSchemaObject>;
  required?: string[];
  additionalProperties?: boolean | JsonSchemaObject;
  items?: JsonSchemaObject;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  anyOf?: JsonSchemaObject[];
  not?: JsonSchemaObject;
  default?: unknown;
  readOnly?: boolean;
  examples?: unknown[];
}

/** `create`/`update` validate request bodies; `output` describes records the API returns. */
export type RecordSchemaMode = 'create' | 'update' | 'output';

/** Default limits, per field type, when the field's metadata sets none. */
export const FIELD_LIMITS = {
  textMaxLength: 255,
  textareaMaxLength: 10_000,
  richtextMaxLength: 100_000,
  emailMaxLength: 254,
  urlMaxLength: 2048,
  userMaxLength: 100,
  integerMax: Number.MAX_SAFE_INTEGER,
  // Beyond ±1e15 a double no longer holds cents exactly; it also keeps 1e300 and Infinity out.
  decimalMax: 1e15,
  linesMaxItems: 500,
} as const;

/** Digits, spaces and `+ ( ) - .`, 3 to 32 characters, at least one digit. */
export const PHONE_PATTERN = '^(?=.*[0-9])[0-9 +().-]{3,32}$';
export const URL_PATTERN = '^https?://';

/** Record properties the engine owns, in the order they appear in an output record. */
const SYSTEM_PROPERTIES: Record<string, JsonSchemaObject> = {
  id: { title: 'Id', type: 'string', format: 'uuid', readOnly: true },
  // Null while a record has no number yet (e.g. a module without numbering).
  number: { title: 'Number', type: ['string', 'null'], readOnly: true },
  module: { title: 'Module', type: 'string', readOnly: true },
  version: {
    title: 'Version',
    description: 'Incremented on every change; the ETag of the record. Send it back in If-Match.',
    type: 'integer',
    minimum: 1,
    readOnly: true,
  },
  owner: { title: 'Owner', type: ['string', 'null'] },
  createdBy: { title: 'Created by', type: ['string', 'null'], readOnly: true },
  createdAt: { title: 'Created at', type: 'string', format: 'date-time', readOnly: true },
  updatedAt: { title: 'Updated at', type: 'string', format: 'date-time', readOnly: true },
  archivedAt: { title: 'Archived at', type: ['string', 'null'], format: 'date-time', readOnly: true },
};

/**
 * Builds the JSON Schema of one record of `module`.
 *
 * - `create`: closed object; `required` lists fields with `required: true` and no default.
 * - `update`: closed object, nothing required (a partial patch); required fields reject `null`.
 * - `output`: system properties plus every field, all nullable, none required (sparse fieldsets);
 *   open, so adding a field to the metadata never makes older clients' validation fail.
 *
 * In create and update a non-required field accepts `null`, meaning "empty". Autonumber fields
 * exist only in output: the engine assigns them, so a write that sends one fails as unknown.
 */
export function buildRecordSchema(module: ModuleDefinition, mode: RecordSchemaMode): JsonSchemaObject {
  const fields = buildFieldsObject(module.fields, mode);
  if (mode !== 'output') return { title: labelOf(module.label, module.name), ...fields };
  return {
    title: labelOf(module.label, module.name),
    type: 'object',
    // Cloned: callers (ajv, a cached OpenAPI document, a dereferencing validator) may hold or mutate it.
    properties: {
      ...structuredClone(SYSTEM_PROPERTIES),
      module: { ...SYSTEM_PROPERTIES.module, const: module.name },
      ...fields.properties,
    },
    // No `required`: a list with `fields=a,b` returns only the properties asked for.
  };
}

/**
 * The schema of one field's value, without `null` and without title; for `lines` the row schema
 * follows `mode` (closed rows with required line fields for writes, open nullable rows for output).
 */
export function fieldValueSchema(field: FieldDefinition, mode: RecordSchemaMode = 'create'): JsonSchemaObject {
  switch (field.type) {
    case 'text':
      return { type: 'string', maxLength: field.maxLength ?? FIELD_LIMITS.textMaxLength };
    case 'textarea':
      return { type: 'string', maxLength: field.maxLength ?? FIELD_LIMITS.textareaMaxLength };
    case 'richtext':
      return { type: 'string', maxLength: field.maxLength ?? FIELD_LIMITS.richtextMaxLength };
    case 'email':
      return { type: 'string', format: 'email', maxLength: field.maxLength ?? FIELD_LIMITS.emailMaxLength };
    case 'phone':
      return { type: 'string', pattern: PHONE_PATTERN };
    case 'url':
      return {
        type: 'string',
        format: 'uri',
        pattern: URL_PATTERN,
        maxLength: field.maxLength ?? FIELD_LIMITS.urlMaxLength,
      };
    case 'integer':
      return {
        type: 'integer',
        minimum: field.min ?? -FIELD_LIMITS.integerMax,
        maximum: field.max ?? FIELD_LIMITS.integerMax,
      };
    case 'decimal':
    case 'currency':
    case 'percent':
      return {
        type: 'number',
        minimum: field.min ?? -FIELD_LIMITS.decimalMax,
        maximum: field.max ?? FIELD_LIMITS.decimalMax,
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'datetime':
      return { type: 'string', format: 'date-time' };
    case 'picklist':
      return picklistSchema(field.options);
    case 'multipicklist':
      return multipicklistSchema(field.options);
    case 'relation':
      return { type: 'string', format: 'uuid' };
    case 'user':
      return { type: 'string', maxLength: FIELD_LIMITS.userMaxLength };
    case 'autonumber':
      return { type: 'string', readOnly: true };
    case 'lines':
      return {
        type: 'array',
        maxItems: FIELD_LIMITS.linesMaxItems,
        items: { type: 'object', ...buildFieldsObject(field.fields ?? {}, mode === 'output' ? 'output' : 'create') },
      };
    default: {
      // Metadata passed schema validation, so this is a new type the builder does not know yet.
      const unknownType: never = field.type;
      throw new Error(`No record schema for field type "${String(unknownType)}"`);
    }
  }
}

/** Whether a create must contain the field: required, and no default the engine could fill in. */
export function isRequiredOnCreate(field: FieldDefinition): boolean {
  return field.required === true && field.default === undefined;
}

/** Shared by records and line rows: properties, `required` and closedness for one set of fields. */
function buildFieldsObject(fields: Record<string, FieldDefinition>, mode: RecordSchemaMode): JsonSchemaObject {
  const properties: Record<string, JsonSchemaObject> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    // Computed by the engine: clients cannot write them, so input schemas leave them out.
    if ((field.type === 'autonumber' || field.formula !== undefined) && mode !== 'output') continue;
    const nullable = mode === 'output' || field.required !== true;
    const value = fieldValueSchema(field, mode);
    const property: JsonSchemaObject = { title: labelOf(field.label, name), ...(nullable ? withNull(value) : value) };
    if (mode === 'create' && field.default !== undefined) property.default = structuredClone(field.default);
    properties[name] = property;
    if (mode === 'create' && isRequiredOnCreate(field)) required.push(name);
  }
  if (mode === 'output') return { type: 'object', properties };
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

function picklistSchema(options: string[] | undefined): JsonSchemaObject {
  const values = unique(options);
  // ajv rejects `enum: []`; a picklist without options accepts no value at all.
  return values.length > 0 ? { type: 'string', enum: values } : { type: 'string', not: {} };
}

function multipicklistSchema(options: string[] | undefined): JsonSchemaObject {
  const values = unique(options);
  return {
    type: 'array',
    items: values.length > 0 ? { type: 'string', enum: values } : { type: 'string' },
    uniqueItems: true,
    maxItems: values.length,
  };
}

/** Adds `null` to a schema's accepted values in the one union form ajv strict mode allows. */
function withNull(schema: JsonSchemaObject): JsonSchemaObject {
  const result: JsonSchemaObject = { ...schema };
  if (typeof schema.type === 'string') result.type = [schema.type, 'null'];
  else if (schema.type === undefined) return { anyOf: [schema, { type: 'null' }] };
  else if (!schema.type.includes('null')) result.type = [...schema.type, 'null'];
  if (schema.enum) result.enum = [...schema.enum, null];
  if (schema.not) {
    // `not: {}` would also reject null; keep "nothing but null" expressible.
    delete result.not;
    result.enum = [null];
  }
  return result;
}

/** The English label, else the technical name. */
export function labelOf(labels: Record<string, string> | undefined, fallback: string): string {
  return labels?.en ?? fallback;
}

function unique(values: string[] | undefined): string[] {
  return [...new Set(values ?? [])];
}
