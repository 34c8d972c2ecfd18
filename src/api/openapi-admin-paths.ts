import type { OpenAPIV3_1 } from 'openapi-types';
import { backgroundPaths } from './openapi-background';
import { asParameterSchema, dataEnvelope, errorResponses, jsonBody, jsonResponse, type Paths, schemaRef } from './openapi-components';
import { metadataPaths } from './openapi-metadata-paths';

/** Tags of the paths that are not per module. */
export const ADMIN_TAGS: OpenAPIV3_1.TagObject[] = [
  {
    name: 'Metadata',
    description:
      'Read, validate, publish and roll back modules, layouts, rules, workflows, tools, email templates and document templates. Requires `admin`.',
  },
  { name: 'Workflow runs', description: 'Every workflow run with its steps; retry failed ones. Requires `admin`.' },
  { name: 'Jobs', description: 'Background jobs such as formula backfills, with their progress. Requires `admin`.' },
  { name: 'Mail', description: 'The outbox of email messages with status, attempts and last error; retry. Requires `admin`.' },
  { name: 'API keys', description: 'Create, lock and delete API keys. Requires `admin`.' },
  { name: 'Health', description: 'Liveness of the service; no API key needed.' },
];

const API_KEYS = '/api/v1/admin/api-keys';

const apiKeyId: OpenAPIV3_1.ParameterObject = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The API key id.',
  schema: asParameterSchema({ type: 'string', format: 'uuid' }),
};

const ADMIN_ERRORS = ['Unauthorized', 'Forbidden'] as const;

/**
 * Metadata, workflow run, job, mail and API key admin paths, and health. operationIds start with
 * `admin` (or are `healthCheck`) so no module's can clash.
 */
export function adminPaths(): Paths {
  const keys = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['API keys'], ...op });

  return {
    ...metadataPaths(),
    ...backgroundPaths(),
    [API_KEYS]: {
      get: keys({
        operationId: 'adminListApiKeys',
        summary: 'List API keys',
        responses: {
          '200': jsonResponse('The API keys (never their secrets).', dataEnvelope({ type: 'array', items: schemaRef('ApiKey') })),
          ...errorResponses(...ADMIN_ERRORS),
        },
      }),
      post: keys({
        operationId: 'adminCreateApiKey',
        summary: 'Create an API key',
        requestBody: jsonBody(schemaRef('ApiKeyCreateBody')),
        responses: {
          '201': jsonResponse('The new key, with its secret `key` shown this once.', dataEnvelope(schemaRef('ApiKeyCreated'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'PayloadTooLarge', 'UnsupportedMediaType', 'ValidationFailed'),
        },
      }),
    },
    [`${API_KEYS}/{id}`]: {
      parameters: [apiKeyId],
      delete: keys({
        operationId: 'adminDeleteApiKey',
        summary: 'Delete an API key',
        description: 'The bootstrap admin key cannot be deleted (409).',
        responses: { '204': { description: 'Deleted.' }, ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict') },
      }),
    },
    [`${API_KEYS}/{id}/lock`]: {
      parameters: [apiKeyId],
      post: keys({
        operationId: 'adminLockApiKey',
        summary: 'Lock an API key',
        description: 'A locked key is refused with 403 until unlocked. The bootstrap admin key cannot be locked (409).',
        responses: {
          '200': jsonResponse('The locked key.', dataEnvelope(schemaRef('ApiKey'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict'),
        },
      }),
    },
    [`${API_KEYS}/{id}/unlock`]: {
      parameters: [apiKeyId],
      post: keys({
        operationId: 'adminUnlockApiKey',
        summary: 'Unlock an API key',
        responses: {
          '200': jsonResponse('The unlocked key.', dataEnvelope(schemaRef('ApiKey'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict'),
        },
      }),
    },
    '/health': {
      get: {
        tags: ['Health'],
        operationId: 'healthCheck',
        summary: 'Health check',
        security: [],
        responses: {
          '200': jsonResponse('The service is up.', schemaRef('Health')),
          ...errorResponses('ServiceUnavailable'),
        },
      },
    },
  };
}
