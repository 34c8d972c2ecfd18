import type { OpenAPIV3_1 } from 'openapi-types';
import type { FieldType, ModuleDefinition } from '../metadata/metadata.types';
import { asParameterSchema, parameterRef } from './openapi-components';
import type { JsonSchemaObject } from '../records/record-schema.builder';

/**
 * The list query of a module as OpenAPI parameters: filter, sort, limit, cursor, fields, q,
 * archived. The allowed keys come from the module's metadata, the same allow-list the query
 * compiler resolves against.
 */

export const FILTER_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'startsWith', 'empty'] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** System properties a list can be filtered on, besides the module's fields. */
export const FILTERABLE_SYSTEM_KEYS = ['id', 'number', 'createdAt', 'updatedAt'] as const;

/** System properties a list can be sorted by, besides the module's fields. */
export const SORTABLE_SYSTEM_KEYS = ['createdAt', 'updatedAt', 'number'] as const;

/** Types whose values are arrays: neither ordered nor filterable as one scalar. */
const NOT_SORTABLE: ReadonlySet<FieldType> = new Set(['lines', 'multipicklist']);
const NOT_FILTERABLE: ReadonlySet<FieldType> = new Set(['lines']);

/** The keys `filter[<key>]` accepts for `module`: its fields except lines, plus some system properties. */
export function filterableKeys(module: ModuleDefinition): string[] {
  const fields = Object.entries(module.fields)
    .filter(([, field]) => !NOT_FILTERABLE.has(field.type))
    .map(([name]) => name);
  return [...fields, ...FILTERABLE_SYSTEM_KEYS];
}

/** The keys `sort` accepts for `module`: its fields except lines and multipicklists, plus createdAt, updatedAt, number. */
export function sortableKeys(module: ModuleDefinition): string[] {
  const fields = Object.entries(module.fields)
    .filter(([, field]) => !NOT_SORTABLE.has(field.type))
    .map(([name]) => name);
  return [...fields, ...SORTABLE_SYSTEM_KEYS];
}

function operatorSchema(op: FilterOperator): JsonSchemaObject {
  if (op === 'empty') return { type: 'boolean', description: '`true`: no value; `false`: has a value.' };
  if (op === 'in' || op === 'nin') return { type: 'string', description: 'Comma-separated values.' };
  return { type: 'string' };
}

function filterParameter(module: ModuleDefinition): OpenAPIV3_1.ParameterObject {
  const keys = filterableKeys(module);
  const operators: JsonSchemaObject = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(FILTER_OPERATORS.map((op) => [op, operatorSchema(op)])),
  };
  const typeOf = (key: string): string => module.fields[key]?.type ?? 'system';
  return {
    name: 'filter',
    in: 'query',
    style: 'deepObject',
    explode: true,
    description: [
      'Filters as `filter[<field>][<op>]=<value>`; all given filters must match.',
      `Operators: ${FILTER_OPERATORS.map((op) => `\`${op}\``).join(', ')}.`,
      '`in` and `nin` take comma-separated values; `empty` takes `true` or `false`.',
      'Example: `filter[status][in]=draft,sent&filter[createdAt][gte]=2025-01-01`.',
      `Filterable fields: ${keys.map((key) => `\`${key}\` (${typeOf(key)})`).join(', ')}.`,
    ].join('\n\n'),
    schema: asParameterSchema({
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(keys.map((key) => [key, operators])),
    }),
  };
}

function sortParameter(module: ModuleDefinition): OpenAPIV3_1.ParameterObject {
  const keys = sortableKeys(module);
  // Names match NAME_PATTERN or are camelCase system keys, so they are safe inside a regex.
  const key = `-?(${keys.join('|')})`;
  return {
    name: 'sort',
    in: 'query',
    description: [
      'Comma-separated sort keys, each optionally prefixed with `-` for descending, e.g. `-createdAt,number`. Default: `-createdAt`.',
      `Sortable keys: ${keys.map((k) => `\`${k}\``).join(', ')}.`,
    ].join('\n\n'),
    schema: asParameterSchema({ type: 'string', pattern: `^${key}(,${key})*$` }),
  };
}

/** Every query parameter of `GET /api/v1/<module>`. */
export function listQueryParameters(module: ModuleDefinition): (OpenAPIV3_1.ParameterObject | OpenAPIV3_1.ReferenceObject)[] {
  const fieldNames = Object.keys(module.fields);
  return [
    filterParameter(module),
    sortParameter(module),
    parameterRef('Limit'),
    parameterRef('Cursor'),
    {
      name: 'fields',
      in: 'query',
      description: `Comma-separated properties to return; only these are in each record. Fields: ${fieldNames
        .map((name) => `\`${name}\``)
        .join(', ')}.`,
      schema: asParameterSchema({ type: 'string' }),
    },
    {
      name: 'q',
      in: 'query',
      description: 'Free-text search over the text fields.',
      schema: asParameterSchema({ type: 'string' }),
    },
    {
      name: 'archived',
      in: 'query',
      description: '`exclude` archived records (default), `include` them, or list `only` archived ones.',
      schema: asParameterSchema({ type: 'string', enum: ['exclude', 'include', 'only'], default: 'exclude' }),
    },
  ];
}
