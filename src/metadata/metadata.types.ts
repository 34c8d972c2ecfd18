/**
 * The metadata language, version 1, as TypeScript types. The JSON Schemas in
 * `metadata/schema/` are the source of truth for what a file may contain; these
 * types describe a file that has passed them.
 */

/** Text per language code, e.g. `{ "en": "Account", "sv": "Konto" }`. */
export type Labels = Record<string, string>;

export const FIELD_TYPES = [
  'text',
  'textarea',
  'richtext',
  'integer',
  'decimal',
  'currency',
  'percent',
  'boolean',
  'date',
  'datetime',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'relation',
  'lines',
  'autonumber',
  'user',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDefinition {
  type: FieldType;
  label?: Labels;
  /** Help text per language. */
  description?: Labels;
  required?: boolean;
  default?: unknown;
  /** text-like fields: longest accepted value in characters. */
  maxLength?: number;
  /** numeric fields: smallest / largest accepted value. */
  min?: number;
  max?: number;
  /** picklist and multipicklist: the allowed values, in display order. */
  options?: string[];
  /** relation: the module the related record belongs to. */
  module?: string;
  /** lines: the fields of one row. */
  fields?: Record<string, FieldDefinition>;
  /** autonumber: prefix and zero padding of the field's own sequence. */
  prefix?: string;
  padding?: number;
  /** Create an expression index so filters and sorts on this field stay fast. */
  indexed?: boolean;
  /** Write every change of this field to the field change log. */
  trackChanges?: boolean;
  /** jsonata computing the field's value on every save; such a field cannot be written by clients. */
  formula?: string;
  /** jsonata computing the value when a record is created without one. */
  defaultFormula?: string;
}

export interface NumberingDefinition {
  prefix?: string;
  padding?: number;
}

export interface ModuleDefinition {
  $schema?: string;
  name: string;
  label: Labels;
  /** Plural label for lists and menus; falls back to `label`. */
  pluralLabel?: Labels;
  numbering?: NumberingDefinition;
  fields: Record<string, FieldDefinition>;
}

/**
 * One problem found in metadata: which file, where in it (RFC 6901 JSON pointer into the body), what is wrong. A
 * problem inside a text value — a template's `/source` — also says where in that text: 1-based `line` and `column`.
 */
export interface MetadataProblem {
  file: string;
  pointer: string;
  message: string;
  line?: number;
  column?: number;
}

/** Names a record already uses for its system properties; a field may not take them. */
export const RESERVED_FIELD_NAMES = [
  'id',
  'number',
  'module',
  'version',
  'owner',
  'createdBy',
  'createdAt',
  'updatedAt',
  'archivedAt',
] as const;

/** Module names that would collide with the engine's own routes under /api/v1. */
export const RESERVED_MODULE_NAMES = ['admin'] as const;

/** Field and module names: lower snake case, so they are safe as JSON keys, URL segments and index names. */
export const NAME_PATTERN = '^[a-z][a-z0-9_]{0,47}$';
