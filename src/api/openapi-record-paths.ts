import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { labelOf } from '../records/record-schema.builder';
import {
  dataEnvelope,
  errorResponses,
  headerRef,
  jsonBody,
  jsonResponse,
  pageEnvelope,
  parameterRef,
  type Paths,
  schemaRef,
} from './openapi-components';
import { listQueryParameters } from './openapi-query';

/** Names one module's document parts: component schema names, operationIds and its tag. */
export interface ModuleNaming {
  /** PascalCase of the module name, unique in the document. */
  pascal: string;
  tag: string;
}

export const RECORDS_BASE_PATH = '/api/v1';

/** `sales_orders` → `SalesOrders`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The concrete paths of one module (`/api/v1/<name>`, `/api/v1/<name>/{id}`, ...). Concrete
 * paths rather than one `{module}` template, so each module documents its own fields.
 */
export function recordPaths(module: ModuleDefinition, naming: ModuleNaming): Paths {
  const { pascal, tag } = naming;
  const base = `${RECORDS_BASE_PATH}/${module.name}`;
  const label = labelOf(module.label, module.name);
  const plural = labelOf(module.pluralLabel, label);
  const record = schemaRef(`${pascal}Record`);
  const one = (description: string, etag = true): OpenAPIV3_1.ResponseObject =>
    jsonResponse(description, dataEnvelope(record), etag ? { ETag: headerRef('ETag') } : undefined);
  const idParameter = [parameterRef('RecordId')];

  return {
    [base]: {
      get: {
        tags: [tag],
        operationId: `list${pascal}`,
        summary: `List ${plural}`,
        description: 'A page of records, filtered, sorted and paginated with an opaque cursor.',
        parameters: listQueryParameters(module),
        responses: {
          '200': jsonResponse(`A page of ${plural}.`, pageEnvelope(record)),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden'),
        },
      },
      post: {
        tags: [tag],
        operationId: `create${pascal}`,
        summary: `Create a ${label}`,
        requestBody: jsonBody(schemaRef(`${pascal}Create`)),
        responses: {
          '201': jsonResponse(`The created ${label}.`, dataEnvelope(record), {
            ETag: headerRef('ETag'),
            Location: headerRef('Location'),
          }),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden', 'PayloadTooLarge', 'UnsupportedMediaType', 'ValidationFailed'),
        },
      },
    },
    [`${base}/{id}`]: {
      parameters: idParameter,
      get: {
        tags: [tag],
        operationId: `get${pascal}`,
        summary: `Get a ${label}`,
        responses: { '200': one(`The ${label}.`), ...errorResponses('Unauthorized', 'Forbidden', 'NotFound') },
      },
      patch: {
        tags: [tag],
        operationId: `update${pascal}`,
        summary: `Update a ${label}`,
        description: 'Changes the given fields only; `null` empties a field. Send `If-Match` to avoid lost updates.',
        parameters: [parameterRef('IfMatch')],
        requestBody: jsonBody(schemaRef(`${pascal}Update`)),
        responses: {
          '200': one(`The updated ${label}.`),
          ...errorResponses(
            'BadRequest',
            'Unauthorized',
            'Forbidden',
            'NotFound',
            'Conflict',
            'PreconditionFailed',
            'PayloadTooLarge',
            'UnsupportedMediaType',
            'ValidationFailed',
          ),
        },
      },
      delete: {
        tags: [tag],
        operationId: `delete${pascal}`,
        summary: `Delete a ${label}`,
        parameters: [parameterRef('IfMatch')],
        responses: {
          '204': { description: 'Deleted.' },
          ...errorResponses('Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'PreconditionFailed'),
        },
      },
    },
    [`${base}/{id}/archive`]: {
      parameters: idParameter,
      post: {
        tags: [tag],
        operationId: `archive${pascal}`,
        summary: `Archive a ${label}`,
        description: 'Hides the record from lists unless `archived=include|only`; it stays readable and can be unarchived.',
        responses: {
          '200': one(`The archived ${label}.`),
          ...errorResponses('Unauthorized', 'Forbidden', 'NotFound', 'Conflict'),
        },
      },
    },
    [`${base}/{id}/unarchive`]: {
      parameters: idParameter,
      post: {
        tags: [tag],
        operationId: `unarchive${pascal}`,
        summary: `Unarchive a ${label}`,
        responses: {
          '200': one(`The restored ${label}.`),
          ...errorResponses('Unauthorized', 'Forbidden', 'NotFound', 'Conflict'),
        },
      },
    },
    [`${base}/{id}/history`]: {
      parameters: idParameter,
      get: {
        tags: [tag],
        operationId: `list${pascal}History`,
        summary: `Field change history of a ${label}`,
        description: 'Changes of fields with change tracking on, newest first.',
        parameters: [parameterRef('Limit'), parameterRef('Cursor')],
        responses: {
          '200': jsonResponse('A page of field changes.', pageEnvelope(schemaRef('FieldChange'))),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound'),
        },
      },
    },
  };
}
