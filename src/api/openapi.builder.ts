import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { buildRecordSchema, labelOf } from '../records/record-schema.builder';
import type { ToolDefinition } from '../tools/tool.types';
import { ADMIN_TAGS, adminPaths } from './openapi-admin-paths';
import { backgroundSchemas, recordWorkflowRunsPaths } from './openapi-background';
import { cardParameters, cardPaths, cardSchemas } from './openapi-cards';
import { asSchema, type Paths, sharedComponents } from './openapi-components';
import { documentParameters, documentPaths, type DocumentTemplateSummary } from './openapi-documents';
import { metadataSchemas } from './openapi-metadata-paths';
import { type ModuleNaming, pascalCase, recordPaths } from './openapi-record-paths';
import { toolPaths, toolSchemas } from './openapi-tools';

export interface OpenApiDocumentOptions {
  /** The metadata version the document describes; becomes `info.version`, so a publish changes the document. */
  metadataVersion: string;
  /** Absolute or relative URL of the API server; omitted, clients use the document's own origin. */
  serverUrl?: string;
  /** The active document templates by module: the documents endpoint lists their names. Omitted, any name is documented. */
  documentTemplates?: ReadonlyMap<string, readonly DocumentTemplateSummary[]>;
  /** The active tools by module: the tools endpoint lists their names, parameters and answers. Omitted, any name is documented. */
  tools?: ReadonlyMap<string, readonly ToolDefinition[]>;
}

/**
 * Builds the OpenAPI 3.1 document of the REST API from module metadata: per module the
 * `<Pascal>Record`, `<Pascal>Create` and `<Pascal>Update` schemas and the concrete record, card,
 * document, tool and workflow-run paths, plus the admin (metadata of every kind, workflow runs, jobs, mail, API keys)
 * and health paths. Pure: same metadata, same document.
 */
export function buildOpenApiDocument(modules: ModuleDefinition[], options: OpenApiDocumentOptions): OpenAPIV3_1.Document {
  const components = sharedComponents();
  const schemas = { ...components.schemas, ...metadataSchemas(), ...cardSchemas(), ...toolSchemas(), ...backgroundSchemas() };
  components.schemas = schemas;
  components.parameters = { ...components.parameters, ...cardParameters(), ...documentParameters() };
  const paths: Paths = {};
  const tags: OpenAPIV3_1.TagObject[] = [];
  const usedTags = new Set(ADMIN_TAGS.map((tag) => tag.name));
  const usedPascal = new Set<string>();

  // Sorted, so the document (and a cached ETag of it) does not depend on registry order.
  for (const module of [...modules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const naming: ModuleNaming = {
      pascal: uniqueName(pascalCase(module.name), usedPascal),
      tag: uniqueTag(module, usedTags),
    };
    tags.push({ name: naming.tag, description: `Records of the \`${module.name}\` module.` });
    schemas[`${naming.pascal}Record`] = asSchema(buildRecordSchema(module, 'output'));
    schemas[`${naming.pascal}Create`] = asSchema(buildRecordSchema(module, 'create'));
    schemas[`${naming.pascal}Update`] = asSchema(buildRecordSchema(module, 'update'));
    Object.assign(
      paths,
      recordPaths(module, naming),
      cardPaths(module, naming),
      documentPaths(module, naming, options.documentTemplates ? (options.documentTemplates.get(module.name) ?? []) : undefined),
      toolPaths(module, naming, options.tools ? (options.tools.get(module.name) ?? []) : undefined),
      recordWorkflowRunsPaths(module, naming),
    );
  }
  Object.assign(paths, adminPaths());
  uniqueOperationIds(paths);

  return {
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: options.metadataVersion,
      description: [
        'Generated from the module metadata; it changes when a module is published.',
        'Authenticate with an API key: `Authorization: Bearer <key>`.',
        'Errors are RFC 9457 problem details (`application/problem+json`).',
      ].join('\n\n'),
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [...tags, ...ADMIN_TAGS],
    paths: paths as OpenAPIV3_1.PathsObject,
    components,
  };
}

/**
 * Distinct module names can share a PascalCase (`a_b`, `a__b`); component names and
 * operationIds must not, so a later one gets a numeric suffix.
 */
function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 2; used.has(name); n++) name = `${base}${n}`;
  used.add(name);
  return name;
}

/**
 * Module operationIds are a verb, the module's PascalCase and maybe a suffix, so two modules can
 * still meet (`getAccountsCard` is the card of `accounts` and the record get of `accounts_card`).
 * A later operation, in document order, gets a numeric suffix; modules come sorted, so the result
 * does not depend on registry order.
 */
function uniqueOperationIds(paths: Paths): void {
  const used = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (operation?.operationId) operation.operationId = uniqueName(operation.operationId, used);
    }
  }
}

/** The English plural label, unless another module or an admin tag already shows it. */
function uniqueTag(module: ModuleDefinition, used: Set<string>): string {
  const label = labelOf(module.pluralLabel, labelOf(module.label, module.name));
  const tag = used.has(label) ? `${label} (${module.name})` : label;
  used.add(tag);
  return tag;
}
