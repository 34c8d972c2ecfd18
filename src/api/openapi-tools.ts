import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { buildRecordSchema, labelOf } from '../records/record-schema.builder';
import type { ToolAction, ToolDefinition } from '../tools/tool.types';
import {
  asParameterSchema,
  asSchema,
  dataEnvelope,
  type ErrorResponseName,
  errorResponses,
  JSON_MEDIA_TYPE,
  parameterRef,
  type Paths,
  schemaRef,
} from './openapi-components';
import { contentDispositionHeader, DOCUMENT_FORMATS, documentContent, type DocumentFormatName } from './openapi-documents';
import { ITEM_NAME_PATTERN } from './openapi-metadata-paths';
import { type ModuleNaming, RECORDS_BASE_PATH } from './openapi-record-paths';

/**
 * `POST /api/v1/<module>/{id}/tools/{tool}`: runs a module tool on a record. With `tools` (the module's active tool
 * definitions) the tool parameter is an enum of their names, the body lists each tool's parameters, and the answer
 * lists only what those tools can answer (JSON, or the document of a generateDocument tool) and the problems they can
 * give; without it (or for a module with none yet) any tool name is documented, since a tool can be published at any
 * time.
 */
export function toolPaths(module: ModuleDefinition, { pascal, tag }: ModuleNaming, tools?: readonly ToolDefinition[]): Paths {
  const label = labelOf(module.label, module.name);
  const known = tools && tools.length > 0 ? [...tools].sort((a, b) => (a.name < b.name ? -1 : 1)) : undefined;
  const actions = known?.map((tool) => tool.action);
  const documentFormats: DocumentFormatName[] = actions
    ? DOCUMENT_FORMATS.filter((format) => actions.some((a) => a.type === 'generateDocument' && a.format === format))
    : DOCUMENT_FORMATS;
  const answersJson = !actions || actions.some((a) => a.type !== 'generateDocument');
  const mayPrintPdf = !actions || actions.some((a) => formatsOf(a).includes('pdf'));
  const mayBeRefused = !known || known.some((tool) => tool.visibleWhen !== undefined);

  const toolParameter: OpenAPIV3_1.ParameterObject = {
    name: 'tool',
    in: 'path',
    required: true,
    description: known
      ? `The tool: ${known.map((tool) => `\`${tool.name}\` — ${labelOf(tool.label, tool.name)} (${actionSummary(tool.action)})`).join('; ')}.`
      : `The tool's name (${module.name} has none yet; publish one under /api/v1/admin/metadata/tools).`,
    schema: asParameterSchema(
      known ? { type: 'string', enum: known.map((tool) => tool.name) } : { type: 'string', pattern: ITEM_NAME_PATTERN },
    ),
  };

  const content: Record<string, OpenAPIV3_1.MediaTypeObject> = {
    ...(answersJson ? { [JSON_MEDIA_TYPE]: { schema: dataEnvelope(schemaRef('ToolResult')) } } : {}),
    ...documentContent(documentFormats),
  };
  const errors: ErrorResponseName[] = [
    'BadRequest',
    'Unauthorized',
    'Forbidden',
    'ToolNotFound',
    ...(mayBeRefused ? (['ToolNotAvailable'] as const) : []),
    'PayloadTooLarge',
    'UnsupportedMediaType',
    'ToolFailed',
    ...(mayPrintPdf ? (['PdfUnavailable'] as const) : []),
  ];

  return {
    [`${RECORDS_BASE_PATH}/${module.name}/{id}/tools/{tool}`]: {
      parameters: [parameterRef('RecordId'), toolParameter],
      post: {
        tags: [tag],
        operationId: `run${pascal}Tool`,
        summary: `Run a tool on a ${label}`,
        description: [
          "Runs a module tool (a button of the record's card) on the record: the tool must be offered for it (its `visibleWhen`",
          'holds) and the parameters valid. The action runs in one transaction, all or nothing, and every write obeys validation,',
          'rules, formulas and numbering; email it queues is sent and workflow runs it starts run only after the commit. The',
          'answer says what it created, changed, queued and started — except for a `generateDocument` tool, which answers with',
          `the document itself (as the documents endpoint does) and writes nothing. Needs \`${module.name}:read\`, and the`,
          'permissions of what the action writes (`<module>:create` for the record a `createRecord` makes,',
          `\`${module.name}:update\` for \`updateSource\`, \`updateRecord\` and \`runWorkflow\`).`,
        ].join(' '),
        requestBody: {
          required: false,
          description: known
            ? `\`{ "params": {...} }\`, the tool's parameters (may be left out when it needs none): ${known
                .map((tool) => `\`${tool.name}\`: ${parametersSummary(tool)}`)
                .join('; ')}.`
            : '`{ "params": {...} }`, the tool\'s parameters by name as its definition declares them (the card lists them per tool); may be left out when it needs none.',
          content: { [JSON_MEDIA_TYPE]: { schema: toolBodySchema(known) } },
        },
        responses: {
          '200': {
            description: [
              answersJson ? 'What the tool did (`ToolResult`).' : '',
              documentFormats.length > 0
                ? `${answersJson ? 'A `generateDocument` tool answers' : 'The answer is'} with the document itself, in its format.`
                : '',
            ]
              .filter((text) => text.length > 0)
              .join(' '),
            ...(documentFormats.length > 0 ? { headers: { 'Content-Disposition': contentDispositionHeader() } } : {}),
            content,
          },
          ...errorResponses(...errors),
        },
      },
    },
  };
}

/** The request body: `params` checked per tool against the same JSON Schema the server validates them with. */
function toolBodySchema(known: readonly ToolDefinition[] | undefined): OpenAPIV3_1.SchemaObject {
  const params: OpenAPIV3_1.SchemaObject = known
    ? {
        description: "The parameters of the tool named in the path: the schema whose `title` is that tool's name.",
        // anyOf, not oneOf: the tool is named in the path, not in the body, and one body (`{}`, say) can suit several tools.
        anyOf: known.map(parametersSchema),
      }
    : { type: 'object', description: 'Parameter values by name; an unknown parameter is refused.' };
  return {
    type: 'object',
    description: 'Members other than `params` are ignored.',
    properties: { params },
  };
}

/** A tool's parameters as the JSON Schema its validator is compiled from (see src/tools/tool.compiler.ts). */
function parametersSchema(tool: ToolDefinition): OpenAPIV3_1.SchemaObject {
  const fields = tool.parameters ?? {};
  const schema = buildRecordSchema({ name: tool.name, label: tool.label, fields }, 'create');
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const description = labelOf(fields[name]?.description, '');
    if (description) property.description = description;
  }
  return { ...asSchema(schema), title: tool.name, description: `The parameters of ${labelOf(tool.label, tool.name)}.` };
}

function parametersSummary(tool: ToolDefinition): string {
  const parameters = Object.entries(tool.parameters ?? {});
  if (parameters.length === 0) return 'none';
  return parameters.map(([name, field]) => `\`${name}\` (${field.type}${field.required ? ', required' : ''})`).join(', ');
}

function actionSummary(action: ToolAction): string {
  switch (action.type) {
    case 'createRecord':
      return `createRecord: creates a record of \`${action.module}\`${action.updateSource ? ' and updates this one' : ''}`;
    case 'updateRecord':
      return 'updateRecord: updates this record';
    case 'generateDocument':
      return `generateDocument: answers with the \`${action.template}\` document as ${action.format}`;
    case 'sendEmail': {
      const attachments = (action.attachments ?? []).map((a) => `\`${a.document}\` ${a.format}`);
      return `sendEmail: queues the \`${action.template}\` email${attachments.length > 0 ? ` with ${attachments.join(', ')} attached` : ''}`;
    }
    case 'runWorkflow':
      return `runWorkflow: starts the \`${action.workflow}\` workflow`;
  }
}

/** The document formats an action renders: what it answers with, or attaches. */
function formatsOf(action: ToolAction): string[] {
  if (action.type === 'generateDocument') return [action.format];
  if (action.type === 'sendEmail') return (action.attachments ?? []).map((a) => a.format);
  return [];
}

/** The answer of a tool that is not a generateDocument one (src/tools/tool.service.ts ToolResult). */
export function toolSchemas(): Record<string, OpenAPIV3_1.SchemaObject> {
  const records = (what: string): OpenAPIV3_1.SchemaObject => ({
    type: 'array',
    description: what,
    items: {
      type: 'object',
      description: "A record as its module's endpoints return it (that module's `<Module>Record` schema).",
      required: ['id', 'number', 'module', 'version'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        number: { type: ['string', 'null'] },
        module: { type: 'string' },
        version: { type: 'integer', minimum: 1 },
      },
    },
  });
  return {
    ToolResult: {
      type: 'object',
      description: 'What a tool did: the records it created and changed, the email it queued and the workflow runs it started.',
      required: ['tool', 'created', 'updated', 'mail', 'runs'],
      properties: {
        tool: { type: 'string', description: 'The tool that ran.' },
        created: records('Records the tool created (`createRecord`).'),
        updated: records('Records the tool changed (`updateRecord`, the source of a `createRecord` with `updateSource`).'),
        mail: { type: 'array', description: 'Messages the tool queued (`sendEmail`).', items: schemaRef('ToolMail') },
        runs: { type: 'array', description: 'Workflow runs the tool started (`runWorkflow`).', items: schemaRef('ToolRun') },
      },
    },
    ToolMail: {
      type: 'object',
      required: ['id', 'status', 'to', 'cc', 'attachments'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'The message; see /api/v1/admin/mail/{id}.' },
        status: {
          type: 'string',
          enum: ['queued', 'kept'],
          description: '`queued`: sent once the tool has committed; `kept`: no SMTP_URL is configured, so it is kept, not sent.',
        },
        to: { type: 'array', items: { type: 'string' } },
        cc: { type: 'array', items: { type: 'string' } },
        attachments: { type: 'array', description: 'File names of the attached documents.', items: { type: 'string' } },
      },
    },
    ToolRun: {
      type: 'object',
      required: ['id', 'workflow', 'status'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'The run (trigger `manual`); see /api/v1/<module>/{id}/workflow-runs.' },
        workflow: { type: 'string' },
        status: {
          type: 'string',
          enum: ['queued', 'stopped'],
          description: '`queued`: runs once the tool has committed; `stopped`: refused by loop protection (why, in `error`).',
        },
        error: { type: 'string' },
      },
    },
  };
}
