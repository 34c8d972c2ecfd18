import type { OpenAPIV3_1 } from 'openapi-types';
import type { MetadataKind } from '../metadata/metadata-set';
import { NAME_PATTERN } from '../metadata/metadata.types';
import { TEMPLATE_NAME } from '../templates/template-files';
import type { ToolAction } from '../tools/tool.types';
import { everyOf } from './openapi-background';
import {
  asParameterSchema,
  dataEnvelope,
  errorResponses,
  jsonBody,
  jsonResponse,
  jsonSchema,
  type Paths,
  type Schema,
  schemaRef,
} from './openapi-components';

/**
 * The admin metadata API (`/api/v1/admin/metadata/<kind>/...`), one path group per kind so each
 * documents its own body. The kinds' JSON Schemas (`metadata/schema/*.schema.json`) refer to each
 * other, so the bodies here are shallow outlines that point to those files; the server validates
 * in full, and answers every problem with a JSON pointer.
 */

export const METADATA_BASE_PATH = '/api/v1/admin/metadata';

/** Workflows and tools are named on their own (the file name); layouts and rules by their module. */
export const ITEM_NAME_PATTERN = '^[a-z][a-z0-9_]{0,62}$';

const TOOL_ACTION_TYPES = everyOf<ToolAction['type']>()(['createRecord', 'updateRecord', 'generateDocument', 'sendEmail', 'runWorkflow']);

interface KindDocs {
  /** The URL segment, as in `METADATA_KINDS` (a spec checks they agree). */
  segment: string;
  /** operationId parts: `adminGet<One>`, `adminList<Many>`. */
  one: string;
  many: string;
  /** "the module", "the layout of a module", ... */
  noun: string;
  nameDescription: string;
  namePattern: string;
  body: string;
  /** How the request body relates to the files; default: the body is the file's JSON. */
  bodyDescription?: string;
}

/** Keyed by MetadataKind, so a new kind does not compile until it is documented here. */
export const METADATA_KIND_DOCS: Record<MetadataKind, KindDocs> = {
  module: {
    segment: 'modules',
    one: 'Module',
    many: 'Modules',
    noun: 'module',
    nameDescription: 'The module name.',
    namePattern: NAME_PATTERN,
    body: 'ModuleDefinition',
  },
  layout: {
    segment: 'layouts',
    one: 'Layout',
    many: 'Layouts',
    noun: 'layout',
    nameDescription: 'The name of the module the layout belongs to.',
    namePattern: NAME_PATTERN,
    body: 'LayoutDefinition',
  },
  rules: {
    segment: 'rules',
    one: 'Rules',
    many: 'Rules',
    noun: 'rule set',
    nameDescription: 'The name of the module the rules belong to.',
    namePattern: NAME_PATTERN,
    body: 'RuleSet',
  },
  workflow: {
    segment: 'workflows',
    one: 'Workflow',
    many: 'Workflows',
    noun: 'workflow',
    nameDescription: 'The workflow name (unique across modules; the body names its `module`).',
    namePattern: ITEM_NAME_PATTERN,
    body: 'WorkflowDefinition',
  },
  tool: {
    segment: 'tools',
    one: 'Tool',
    many: 'Tools',
    noun: 'tool',
    nameDescription: 'The tool name (unique across modules; the body names its `module`).',
    namePattern: ITEM_NAME_PATTERN,
    body: 'ToolDefinition',
  },
  'email-template': {
    segment: 'email-templates',
    one: 'EmailTemplate',
    many: 'EmailTemplates',
    noun: 'email template',
    nameDescription: 'The template name, as sendEmail actions name it (the file `templates/email/<name>.hbs`).',
    namePattern: TEMPLATE_NAME.source,
    body: 'EmailTemplateDefinition',
    bodyDescription: 'The email template: `{ "source": <the text of templates/email/<name>.hbs> }`.',
  },
  'document-template': {
    segment: 'document-templates',
    one: 'DocumentTemplate',
    many: 'DocumentTemplates',
    noun: 'document template',
    nameDescription: 'The template name, the last segment of `GET /api/v1/<module>/{id}/documents/<name>`.',
    namePattern: TEMPLATE_NAME.source,
    body: 'DocumentTemplateDefinition',
    bodyDescription:
      'The document template: `{ "source": <the text of templates/documents/<name>.hbs>, "docx"?: <base64>, "xlsx"?: <base64> }`.',
  },
};

const ADMIN_ERRORS = ['Unauthorized', 'Forbidden'] as const;
const BODY_ERRORS = ['BadRequest', ...ADMIN_ERRORS, 'PayloadTooLarge', 'UnsupportedMediaType'] as const;

function kindPaths(docs: KindDocs): Paths {
  const base = `${METADATA_BASE_PATH}/${docs.segment}`;
  const op = (operation: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['Metadata'], ...operation });
  const name: OpenAPIV3_1.ParameterObject = {
    name: 'name',
    in: 'path',
    required: true,
    description: docs.nameDescription,
    schema: asParameterSchema({ type: 'string', pattern: docs.namePattern }),
  };
  const body = jsonBody(
    schemaRef(docs.body),
    `${docs.bodyDescription ?? `The ${docs.noun}, as in its file.`} See the \`${docs.body}\` schema.`,
  );
  const version = dataEnvelope(schemaRef('MetadataVersion'));
  const article = /^[aeiou]/.test(docs.noun) ? 'an' : 'a';

  return {
    [base]: {
      get: op({
        operationId: `adminList${docs.many}`,
        summary: `List the active ${docs.noun}s`,
        responses: {
          '200': jsonResponse(
            `Every active ${docs.noun} with its version, by name.`,
            dataEnvelope({ type: 'array', items: schemaRef('MetadataSummary') }),
          ),
          ...errorResponses(...ADMIN_ERRORS),
        },
      }),
    },
    [`${base}/{name}`]: {
      parameters: [name],
      get: op({
        operationId: `adminGet${docs.one}`,
        summary: `Get the active ${docs.noun}`,
        responses: {
          '200': jsonResponse(
            `The active body of the ${docs.noun} and its version.`,
            dataEnvelope({
              type: 'object',
              required: ['name', 'version', 'body'],
              properties: { name: { type: 'string' }, version: { type: 'integer', minimum: 1 }, body: schemaRef(docs.body) },
            }),
          ),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
        },
      }),
      put: op({
        operationId: `adminPublish${docs.one}`,
        summary: `Publish a new version of ${article} ${docs.noun}`,
        description: [
          'Validates the whole metadata set with this change applied and, when valid, stores the body as the new active version,',
          'effective for the next request. A change that would break another module, layout, rule, formula, workflow, tool or template is',
          'refused with 422 listing every problem (in a template: with the line and column).',
        ].join(' '),
        requestBody: body,
        responses: {
          '200': jsonResponse('The published version.', version),
          '201': jsonResponse(`The first version: the ${docs.noun} did not exist before.`, version),
          ...errorResponses(...BODY_ERRORS, 'InvalidMetadata'),
        },
      }),
    },
    [`${base}/{name}/validate`]: {
      parameters: [name],
      post: op({
        operationId: `adminValidate${docs.one}`,
        summary: `Validate ${article} ${docs.noun} without publishing it`,
        description: 'A dry run of the publish: the same checks, nothing stored. Invalid metadata is still a 200.',
        requestBody: body,
        responses: {
          '200': jsonResponse('Every problem, with file, JSON pointer and message.', schemaRef('MetadataValidationResult')),
          ...errorResponses(...BODY_ERRORS),
        },
      }),
    },
    [`${base}/{name}/versions`]: {
      parameters: [name],
      get: op({
        operationId: `adminList${docs.one}Versions`,
        summary: `List the stored versions of ${article} ${docs.noun}`,
        responses: {
          '200': jsonResponse('The versions, newest first.', dataEnvelope({ type: 'array', items: schemaRef('MetadataVersion') })),
          ...errorResponses(...ADMIN_ERRORS, 'NotFound'),
        },
      }),
    },
    [`${base}/{name}/rollback/{version}`]: {
      parameters: [
        name,
        {
          name: 'version',
          in: 'path',
          required: true,
          description: 'The stored version whose body becomes active again.',
          schema: asParameterSchema({ type: 'integer', minimum: 1, maximum: 999_999_999 }),
        },
      ],
      post: op({
        operationId: `adminRollback${docs.one}`,
        summary: `Make an earlier version of ${article} ${docs.noun} active again`,
        description:
          'Publishes the body of that version again as the newest version, so the history stays linear. It is validated like a publish.',
        responses: {
          '200': jsonResponse('The new version, holding the earlier body.', version),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict', 'InvalidMetadata'),
        },
      }),
    },
  };
}

/** The metadata paths of every kind. operationIds start with `admin`, so no module's can clash. */
export function metadataPaths(): Paths {
  return Object.assign({}, ...Object.values(METADATA_KIND_DOCS).map(kindPaths)) as Paths;
}

const schemaFile = (file: string) => `Validated in full against \`metadata/schema/${file}\` (outlined here).`;

const OPEN_OBJECT: Schema = { type: 'object' };

/** The metadata bodies, in outline, and the admin answers about them. */
export function metadataSchemas(): Record<string, OpenAPIV3_1.SchemaObject> {
  return {
    ModuleDefinition: {
      type: 'object',
      description: `A module as metadata (\`modules/<name>/module.json\`). ${schemaFile('module.schema.json')}`,
      required: ['name', 'label', 'fields'],
      properties: {
        $schema: { type: 'string' },
        name: { type: 'string', pattern: NAME_PATTERN, description: 'Must equal the name in the URL.' },
        label: schemaRef('Labels'),
        pluralLabel: schemaRef('Labels'),
        numbering: {
          type: 'object',
          properties: { prefix: { type: 'string' }, padding: { type: 'integer', minimum: 0 } },
        },
        fields: {
          type: 'object',
          description: 'Field definitions keyed by field name.',
          additionalProperties: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
        },
      },
    },
    LayoutDefinition: {
      type: 'object',
      description: `The entity card of a module (\`modules/<module>/layout.json\`). ${schemaFile('layout.schema.json')}`,
      required: ['module', 'blocks'],
      properties: {
        $schema: { type: 'string' },
        module: { type: 'string', pattern: NAME_PATTERN, description: 'Must equal the name in the URL.' },
        blocks: {
          type: 'array',
          description: 'Blocks of fields, in order: `id`, `label`, `columns`, `collapsed`, `fields`.',
          items: OPEN_OBJECT,
        },
        hidden: { type: 'array', description: 'Fields left off the card.', items: { type: 'string' } },
        relatedLists: {
          type: 'array',
          description: 'Records of other modules that point here: `module`, `relation`, `columns`, `filter`, `sort`, `pageSize`.',
          items: OPEN_OBJECT,
        },
        tools: { type: 'array', description: 'The module tools shown as buttons, in order.', items: { type: 'string' } },
      },
    },
    RuleSet: {
      description: [
        `The dynamic-field rules of a module (\`modules/<module>/rules.json\`): the bare rule array, or the file's`,
        `\`{ "$schema", "rules": [...] }\`. ${schemaFile('rules.schema.json')}`,
      ].join(' '),
      oneOf: [
        { type: 'array', items: OPEN_OBJECT },
        {
          type: 'object',
          required: ['rules'],
          properties: { $schema: { type: 'string' }, rules: { type: 'array', items: OPEN_OBJECT } },
        },
      ],
    },
    WorkflowDefinition: {
      type: 'object',
      description: `A workflow (\`modules/<module>/workflows/<name>.json\`). ${schemaFile('workflow.schema.json')}`,
      required: ['name', 'module', 'trigger', 'actions'],
      properties: {
        $schema: { type: 'string' },
        name: { type: 'string', pattern: ITEM_NAME_PATTERN, description: 'Must equal the name in the URL.' },
        module: { type: 'string', pattern: NAME_PATTERN },
        label: schemaRef('Labels'),
        description: { type: 'string' },
        enabled: { type: 'boolean' },
        trigger: { type: 'string', enum: ['create', 'update', 'save', 'delete', 'schedule'] },
        watch: OPEN_OBJECT,
        condition: OPEN_OBJECT,
        schedule: { type: 'object', description: 'With trigger `schedule`: a `cron` (UTC) and a `filter` over the records.' },
        actions: {
          type: 'array',
          description:
            'Run in order: `updateFields`, `createRecord`, `updateLinkedRecord`, `updateRelatedRecords`, `sendEmail`, `webhook`, `delay`, `runTool`.',
          items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
        },
      },
    },
    ToolDefinition: {
      type: 'object',
      description: `A button on the entity card (\`modules/<module>/tools/<name>.json\`). ${schemaFile('tool.schema.json')}`,
      required: ['name', 'module', 'label', 'action'],
      properties: {
        $schema: { type: 'string' },
        name: { type: 'string', pattern: ITEM_NAME_PATTERN, description: 'Must equal the name in the URL.' },
        module: { type: 'string', pattern: NAME_PATTERN },
        label: schemaRef('Labels'),
        confirm: schemaRef('Labels'),
        visibleWhen: { type: 'object', description: 'A condition: the tool is offered (and runs) only while it holds.' },
        parameters: { type: 'object', description: 'What the user enters, as field definitions by name.' },
        action: {
          type: 'object',
          required: ['type'],
          properties: { type: { type: 'string', enum: TOOL_ACTION_TYPES } },
        },
      },
    },
    EmailTemplateDefinition: {
      type: 'object',
      description: [
        'An email template (`templates/email/<name>.hbs`, imported as `{ "source": <its text> }`): Handlebars in the isolated',
        'environment (allow-listed helpers only, no prototype access, values HTML-escaped). The first line names the subject,',
        `\`{{!-- subject: Your subject with {{values}} --}}\`; the whole text is the HTML body. ${schemaFile('email-template.schema.json')}`,
      ].join(' '),
      required: ['source'],
      additionalProperties: false,
      properties: {
        $schema: { type: 'string' },
        source: { type: 'string', minLength: 1, maxLength: 1_000_000, description: 'Subject line, then the HTML body.' },
      },
      examples: [{ source: '{{!-- subject: Welcome, {{user.name}} --}}\n<p>{{t "greeting" name=user.name}}</p>\n' }],
    },
    DocumentTemplateDefinition: {
      type: 'object',
      description: [
        'A document template (`templates/documents/<name>.hbs` with `<name>.docx` / `<name>.xlsx` beside it): an HTML',
        'document in Handlebars whose first comment names the module it prints and its own words per language,',
        '`{{! document: { "module": "invoices", "texts": { "title": { "en": "Invoice", "sv": "Faktura" } } } }}`, and',
        `optional DOCX (docxtemplater) and XLSX (xlsx-template) tag templates in base64. ${schemaFile('document-template.schema.json')}`,
      ].join(' '),
      required: ['source'],
      additionalProperties: false,
      properties: {
        $schema: { type: 'string' },
        source: { type: 'string', minLength: 1, maxLength: 1_000_000, description: 'The HTML template, header comment first.' },
        docx: jsonSchema({ type: 'string', contentEncoding: 'base64', description: 'A .docx tag template, base64-encoded.' }),
        xlsx: jsonSchema({ type: 'string', contentEncoding: 'base64', description: 'A .xlsx tag template, base64-encoded.' }),
      },
    },
    MetadataSummary: {
      type: 'object',
      required: ['name', 'version', 'createdAt'],
      properties: {
        name: { type: 'string' },
        version: { type: 'integer', minimum: 1, description: 'The active version.' },
        createdAt: { type: 'string', format: 'date-time', description: 'When the active version was stored.' },
      },
    },
    MetadataVersion: {
      type: 'object',
      required: ['kind', 'name', 'version', 'checksum', 'author', 'source', 'createdAt', 'active'],
      properties: {
        kind: { type: 'string', enum: Object.keys(METADATA_KIND_DOCS) },
        name: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
        checksum: { type: 'string', description: 'Of the body; formatting, key order and `$schema` do not count.' },
        author: { type: 'string', description: 'The API key name, or `system:files` for an import at start.' },
        source: { type: 'string', description: '`file` (imported at start), `api` (published) or `rollback`.' },
        createdAt: { type: 'string', format: 'date-time' },
        active: { type: 'boolean' },
      },
    },
    MetadataProblem: {
      type: 'object',
      required: ['file', 'pointer', 'message'],
      properties: {
        file: { type: 'string', description: 'The file the problem is in, e.g. `modules/accounts/layout.json`.' },
        pointer: {
          type: 'string',
          description: 'RFC 6901 JSON pointer into the file (the request body), e.g. `/fields/size/type`, `/source`.',
        },
        message: { type: 'string' },
        line: { type: 'integer', minimum: 1, description: 'In a text value (a template `/source`): the 1-based line of the problem.' },
        column: { type: 'integer', minimum: 1, description: 'With `line`: the 1-based column.' },
      },
    },
    MetadataValidationResult: {
      type: 'object',
      required: ['valid', 'errors'],
      properties: { valid: { type: 'boolean' }, errors: { type: 'array', items: schemaRef('MetadataProblem') } },
    },
    MetadataProblemDetails: {
      description: 'The problem details of invalid metadata: `errors` per JSON pointer, and `problems` with their files.',
      allOf: [
        schemaRef('Problem'),
        {
          type: 'object',
          required: ['problems'],
          properties: { problems: { type: 'array', items: schemaRef('MetadataProblem') } },
        },
      ],
    },
  };
}
