import type { OpenAPIV3_1 } from 'openapi-types';
import { NAME_PATTERN } from '../metadata/metadata.types';
import { asParameterSchema, dataEnvelope, errorResponses, jsonBody, jsonResponse, type Paths, schemaRef } from './openapi-components';

/** Tags of the paths that are not per module. */
export const ADMIN_TAGS: OpenAPIV3_1.TagObject[] = [
  { name: 'Metadata', description: 'Read, validate, publish and roll back module metadata. Requires `admin`.' },
  { name: 'API keys', description: 'Create, lock and delete API keys. Requires `admin`.' },
  { name: 'Health', description: 'Liveness of the service; no API key needed.' },
];

const MODULES = '/api/v1/admin/metadata/modules';
const API_KEYS = '/api/v1/admin/api-keys';

const moduleName: OpenAPIV3_1.ParameterObject = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'The module name.',
  schema: asParameterSchema({ type: 'string', pattern: NAME_PATTERN }),
};

const apiKeyId: OpenAPIV3_1.ParameterObject = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The API key id.',
  schema: asParameterSchema({ type: 'string' }),
};

const ADMIN_ERRORS = ['Unauthorized', 'Forbidden'] as const;

/** Metadata admin, API key admin and health paths. operationIds start with `admin` (or are `healthCheck`) so no module's can clash. */
export function adminPaths(): Paths {
  const metadata = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['Metadata'], ...op });
  const keys = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['API keys'], ...op });
  const versionSchema = dataEnvelope(schemaRef('MetadataVersion'));

  return {
    [MODULES]: {
      get: metadata({
        operationId: 'adminListModules',
        summary: 'List modules',
        responses: {
          '200': jsonResponse('The active modules.', dataEnvelope({ type: 'array', items: schemaRef('ModuleSummary') })),
          ...errorResponses(...ADMIN_ERRORS),
        },
      }),
    },
    [`${MODULES}/{name}`]: {
      parameters: [moduleName],
      get: metadata({
        operationId: 'adminGetModule',
        summary: 'Get the active metadata of a module',
        responses: {
          '200': jsonResponse('The module metadata.', dataEnvelope(schemaRef('ModuleDefinition'))),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
        },
      }),
      put: metadata({
        operationId: 'adminPublishModule',
        summary: 'Publish a new version of a module',
        description:
          'Validates the metadata and, when valid, stores it as a new active version. Invalid metadata is a 422 listing every problem.',
        requestBody: jsonBody(schemaRef('ModuleDefinition')),
        responses: {
          '200': jsonResponse('The published version.', versionSchema),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'Conflict', 'PayloadTooLarge', 'UnsupportedMediaType', 'ValidationFailed'),
        },
      }),
    },
    [`${MODULES}/{name}/validate`]: {
      parameters: [moduleName],
      post: metadata({
        operationId: 'adminValidateModule',
        summary: 'Validate module metadata without publishing it',
        requestBody: jsonBody(schemaRef('ModuleDefinition')),
        responses: {
          '200': jsonResponse(
            'The validation result: every problem with file, JSON pointer and message.',
            schemaRef('MetadataValidationResult'),
          ),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'PayloadTooLarge', 'UnsupportedMediaType'),
        },
      }),
    },
    [`${MODULES}/{name}/versions`]: {
      parameters: [moduleName],
      get: metadata({
        operationId: 'adminListModuleVersions',
        summary: 'List the stored versions of a module',
        responses: {
          '200': jsonResponse('The versions, newest first.', dataEnvelope({ type: 'array', items: schemaRef('MetadataVersion') })),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
        },
      }),
    },
    [`${MODULES}/{name}/rollback/{version}`]: {
      parameters: [
        moduleName,
        {
          name: 'version',
          in: 'path',
          required: true,
          description: 'The stored version to make active again.',
          schema: asParameterSchema({ type: 'integer', minimum: 1 }),
        },
      ],
      post: metadata({
        operationId: 'adminRollbackModule',
        summary: 'Make an earlier version of a module active again',
        responses: {
          '200': jsonResponse('The version now active.', versionSchema),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound', 'Conflict', 'ValidationFailed'),
        },
      }),
    },
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
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'UnsupportedMediaType', 'ValidationFailed'),
        },
      }),
    },
    [`${API_KEYS}/{id}`]: {
      parameters: [apiKeyId],
      delete: keys({
        operationId: 'adminDeleteApiKey',
        summary: 'Delete an API key',
        responses: { '204': { description: 'Deleted.' }, ...errorResponses(...ADMIN_ERRORS, 'NotFound') },
      }),
    },
    [`${API_KEYS}/{id}/lock`]: {
      parameters: [apiKeyId],
      post: keys({
        operationId: 'adminLockApiKey',
        summary: 'Lock an API key',
        description: 'A locked key is refused with 401 until unlocked.',
        responses: {
          '200': jsonResponse('The locked key.', dataEnvelope(schemaRef('ApiKey'))),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
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
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
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
