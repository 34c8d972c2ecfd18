import type { OpenAPIV3_1 } from 'openapi-types';
import { NAME_PATTERN } from '../metadata/metadata.types';
import type { JsonSchemaObject } from '../records/record-schema.builder';

/**
 * The parts of the OpenAPI document that do not depend on module metadata: problem details,
 * error responses, shared headers and parameters, and the admin schemas. Module-derived
 * component names always end in `Record`, `Create` or `Update`; the names here never do,
 * so no module name can collide with them.
 */

export type Schema = OpenAPIV3_1.SchemaObject | OpenAPIV3_1.ReferenceObject;

/**
 * openapi-types 12 declares a 3.1 path item as the intersection of the 3.0 and 3.1 shapes, so
 * an operation with 3.1 schemas cannot be assigned to it. The builders use these plain shapes
 * and cast once, in buildOpenApiDocument.
 */
export type PathItem = {
  summary?: string;
  description?: string;
  parameters?: (OpenAPIV3_1.ParameterObject | OpenAPIV3_1.ReferenceObject)[];
} & Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch', OpenAPIV3_1.OperationObject>>;

export type Paths = Record<string, PathItem>;

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const JSON_MEDIA_TYPE = 'application/json';

/** `<module>:<method>` (module may be `*` for every module) or `admin`, as stored on API keys. */
export const PERMISSION_PATTERN = `^(admin|(\\*|${NAME_PATTERN.slice(1, -1)}):(read|create|update|delete))$`;

/** A JSON Schema built for ajv is a valid OpenAPI 3.1 Schema Object; openapi-types just cannot prove it. */
export function asSchema(schema: JsonSchemaObject): OpenAPIV3_1.SchemaObject {
  return schema as unknown as OpenAPIV3_1.SchemaObject;
}

/** A schema using JSON Schema 2020-12 keywords openapi-types does not declare (`contentMediaType`, `contentEncoding`). */
export function jsonSchema(schema: Record<string, unknown>): OpenAPIV3_1.SchemaObject {
  return schema as OpenAPIV3_1.SchemaObject;
}

/**
 * Parameter and header schemas are typed with OpenAPI 3.0's Schema Object in openapi-types,
 * although 3.1 makes them full JSON Schema; the cast bridges that gap in the typings.
 */
export function asParameterSchema(schema: JsonSchemaObject | OpenAPIV3_1.ReferenceObject): OpenAPIV3_1.ParameterObject['schema'] {
  return schema as unknown as OpenAPIV3_1.ParameterObject['schema'];
}

export function schemaRef(name: string): OpenAPIV3_1.ReferenceObject {
  return { $ref: `#/components/schemas/${name}` };
}

export function responseRef(name: ErrorResponseName): OpenAPIV3_1.ReferenceObject {
  return { $ref: `#/components/responses/${name}` };
}

export function parameterRef(name: string): OpenAPIV3_1.ReferenceObject {
  return { $ref: `#/components/parameters/${name}` };
}

export function headerRef(name: string): OpenAPIV3_1.ReferenceObject {
  return { $ref: `#/components/headers/${name}` };
}

/** A JSON response whose body is `schema`. */
export function jsonResponse(
  description: string,
  schema: Schema,
  headers?: Record<string, OpenAPIV3_1.ReferenceObject>,
): OpenAPIV3_1.ResponseObject {
  return { description, ...(headers ? { headers } : {}), content: { [JSON_MEDIA_TYPE]: { schema } } };
}

/** `{ "data": <schema> }`, the envelope of every single-resource response. */
export function dataEnvelope(schema: Schema): OpenAPIV3_1.SchemaObject {
  return { type: 'object', required: ['data'], properties: { data: schema } };
}

/** `{ "data": [<schema>], "page": PageInfo }`, the envelope of every paginated list. */
export function pageEnvelope(item: Schema): OpenAPIV3_1.SchemaObject {
  return {
    type: 'object',
    required: ['data', 'page'],
    properties: { data: { type: 'array', items: item }, page: schemaRef('PageInfo') },
  };
}

export function jsonBody(schema: Schema, description?: string): OpenAPIV3_1.RequestBodyObject {
  return { required: true, ...(description ? { description } : {}), content: { [JSON_MEDIA_TYPE]: { schema } } };
}

const ERROR_RESPONSES = {
  BadRequest: [400, 'The request is malformed: bad JSON, an unknown query parameter, a bad filter or sort key.'],
  Unauthorized: [401, 'No API key, or an unknown one. Send `Authorization: Bearer <key>`.'],
  Forbidden: [403, 'The API key is locked, or lacks the permission for this operation (`<module>:<method>` or `admin`).'],
  NotFound: [404, 'No such resource.'],
  Conflict: [409, 'The request conflicts with the current state of the resource.'],
  PreconditionFailed: [412, 'If-Match does not match the current version: reload the record and try again.'],
  PayloadTooLarge: [413, 'The request body is too large.'],
  UnsupportedMediaType: [415, 'The request body must be `application/json`.'],
  ValidationFailed: [422, 'The body failed validation; `errors` lists each field, code and message.'],
  InvalidMetadata: [
    422,
    'The metadata set would be invalid with this change; `problems` lists each with file, JSON pointer and message. Nothing was published.',
  ],
  ServiceUnavailable: [503, 'The service, or something it depends on, is unavailable.'],
  DocumentNotFound: [
    404,
    'No such record, or no document template of that name for this module in this format (`document_template_not_found`; `known` lists the ones there are).',
  ],
  RenderFailed: [422, 'The template could not be rendered with this record (`template_render_failed`, e.g. a value a helper cannot read).'],
  ToolNotFound: [
    404,
    'No such record; or the module has no tool of that name (`unknown_tool`, naming the ones it has); or a template or workflow the tool names is gone (`tool_template_not_found`, `unknown_workflow`; `errors[0].field` points into the tool, e.g. `action.template`).',
  ],
  ToolNotAvailable: [
    409,
    'The tool is not offered for the record in its current state: its `visibleWhen` does not hold (`tool_not_available`).',
  ],
  ToolFailed: [
    422,
    'Nothing was done: a parameter is invalid (`record_invalid`, `errors` naming each `params.<name>`), a `sendEmail` tool found no recipient (`no_recipient`), a record the tool writes failed validation, rules or formulas (`record_invalid`, `formula_failed`), an expression of the tool hit its limits (`expression_limit`), or a template could not be rendered with the record (`template_render_failed`).',
  ],
  PdfUnavailable: [
    503,
    'PDF needs headless Chromium: none is installed or configured (`pdf_unavailable`, saying how to enable it), or it failed to print (`pdf_failed`).',
  ],
} as const;

export type ErrorResponseName = keyof typeof ERROR_RESPONSES;

/** The error responses an operation may answer with, by component name. */
export function errorResponses(...names: ErrorResponseName[]): OpenAPIV3_1.ResponsesObject {
  return Object.fromEntries(names.map((name) => [String(ERROR_RESPONSES[name][0]), responseRef(name)]));
}

/** Error responses whose problem body has more members than `Problem`. */
const PROBLEM_SCHEMAS: Partial<Record<ErrorResponseName, string>> = {
  InvalidMetadata: 'MetadataProblemDetails',
  DocumentNotFound: 'DocumentTemplateProblemDetails',
};

function problemResponses(): Record<string, OpenAPIV3_1.ResponseObject> {
  return Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([name, [, description]]) => [
      name,
      {
        description,
        content: { [PROBLEM_MEDIA_TYPE]: { schema: schemaRef(PROBLEM_SCHEMAS[name as ErrorResponseName] ?? 'Problem') } },
      },
    ]),
  );
}

const LABELS: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  description: 'Text per language code, e.g. `{ "en": "Account", "sv": "Konto" }`.',
  additionalProperties: { type: 'string' },
};

const SHARED_SCHEMAS: Record<string, OpenAPIV3_1.SchemaObject> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details, sent as `application/problem+json`.',
    required: ['type', 'title', 'status'],
    properties: {
      type: { type: 'string', description: 'URI identifying the kind of problem; its last segment is a stable code.' },
      title: { type: 'string' },
      status: { type: 'integer', minimum: 100, maximum: 599 },
      detail: { type: 'string', description: 'What went wrong in this occurrence, and how to fix it.' },
      instance: { type: 'string' },
      errors: {
        type: 'array',
        description: 'One entry per invalid field (validation problems only).',
        items: schemaRef('FieldError'),
      },
    },
  },
  FieldError: {
    type: 'object',
    required: ['field', 'code', 'message'],
    properties: {
      field: { type: 'string', description: 'Field name or path, e.g. `lines[2].price`.' },
      code: { type: 'string', description: 'A stable code, e.g. `required`, `unknown_field`, `not_an_option`.' },
      message: { type: 'string' },
      line: { type: 'integer', minimum: 1, description: 'Invalid metadata in a text value (a template `/source`): the 1-based line.' },
      column: { type: 'integer', minimum: 1, description: 'With `line`: the 1-based column.' },
    },
  },
  DocumentTemplateProblemDetails: {
    description: 'A 404 of the documents endpoint; when the template is what is missing, it names the templates there are.',
    allOf: [
      schemaRef('Problem'),
      {
        type: 'object',
        properties: {
          template: { type: 'string', description: 'The template asked for.' },
          format: { type: 'string', enum: ['html', 'pdf', 'docx', 'xlsx'] },
          known: { type: 'array', items: { type: 'string' }, description: "The module's templates in that format." },
        },
      },
    ],
  },
  PageInfo: {
    type: 'object',
    required: ['limit', 'nextCursor'],
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 500 },
      nextCursor: {
        type: ['string', 'null'],
        description: 'Pass as `cursor` to get the next page; `null` on the last page.',
      },
    },
  },
  FieldChange: {
    type: 'object',
    description: 'One entry of the field change log.',
    required: ['id', 'field', 'oldValue', 'newValue', 'actor', 'source', 'changedAt'],
    properties: {
      id: { type: 'string' },
      field: { type: 'string' },
      oldValue: { description: 'The value before the change; any JSON value, `null` when empty.' },
      newValue: { description: 'The value after the change; any JSON value, `null` when empty.' },
      actor: {
        type: 'object',
        required: ['id', 'name'],
        properties: { id: { type: ['string', 'null'] }, name: { type: ['string', 'null'] } },
      },
      source: { type: 'string', description: 'Where the change came from, e.g. `api`, `card`, `workflow`, `tool`, `import`.' },
      changedAt: { type: 'string', format: 'date-time' },
    },
  },
  Labels: LABELS,
  ApiKey: {
    type: 'object',
    required: ['id', 'name', 'keyPrefix', 'permissions', 'locked', 'bootstrap', 'createdAt', 'lastUsedAt'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      keyPrefix: { type: 'string', description: 'The first characters of the key, to tell keys apart.' },
      permissions: { type: 'array', items: { type: 'string', pattern: PERMISSION_PATTERN } },
      locked: { type: 'boolean', description: 'A locked key is answered with 403.' },
      bootstrap: {
        type: 'boolean',
        description: 'The admin key created at first start (or from `ADMIN_API_KEY`); it cannot be locked or deleted.',
      },
      createdAt: { type: 'string', format: 'date-time' },
      lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  ApiKeyCreateBody: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'permissions'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 100 },
      permissions: {
        type: 'array',
        maxItems: 500,
        description:
          '`<module>:<read|create|update|delete>` per module and method (`*` as the module for every module), or `admin` for everything. Duplicates are dropped.',
        items: { type: 'string', pattern: PERMISSION_PATTERN },
        examples: [['accounts:read', 'accounts:create']],
      },
    },
  },
  ApiKeyCreated: {
    allOf: [
      schemaRef('ApiKey'),
      {
        type: 'object',
        required: ['key'],
        properties: { key: { type: 'string', description: 'The secret; shown in this response only, store it now.' } },
      },
    ],
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', examples: ['ok'] } },
  },
};

/** The components that every document has, whatever the modules. */
export function sharedComponents(): OpenAPIV3_1.ComponentsObject {
  return {
    schemas: structuredClone(SHARED_SCHEMAS),
    responses: problemResponses(),
    parameters: {
      RecordId: {
        name: 'id',
        in: 'path',
        required: true,
        description: 'The record id.',
        schema: asParameterSchema({ type: 'string', format: 'uuid' }),
      },
      IfMatch: {
        name: 'If-Match',
        in: 'header',
        required: false,
        description: 'The ETag from the last read. When given and stale, the request fails with 412 instead of overwriting.',
        schema: asParameterSchema({ type: 'string' }),
      },
      Limit: {
        name: 'limit',
        in: 'query',
        description: 'Page size.',
        schema: asParameterSchema({ type: 'integer', minimum: 1, maximum: 500, default: 50 }),
      },
      Cursor: {
        name: 'cursor',
        in: 'query',
        description: 'Opaque cursor from `page.nextCursor` of the previous page.',
        schema: asParameterSchema({ type: 'string' }),
      },
    },
    headers: {
      ETag: {
        description: 'The record version as an entity tag; send it back in `If-Match`.',
        schema: asParameterSchema({ type: 'string' }),
      },
      Location: {
        description: 'URL of the created record.',
        schema: asParameterSchema({ type: 'string', format: 'uri-reference' }),
      },
    },
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'An API key, sent as `Authorization: Bearer <key>`. Keys are created under admin/api-keys.',
      },
    },
  };
}
