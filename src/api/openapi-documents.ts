import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { labelOf } from '../records/record-schema.builder';
import { TEMPLATE_NAME } from '../templates/template-files';
import { asParameterSchema, errorResponses, jsonSchema, parameterRef, type Paths } from './openapi-components';
import { type ModuleNaming, RECORDS_BASE_PATH } from './openapi-record-paths';

/** The formats of the documents endpoint and what each is sent as (as the document service answers). */
export const DOCUMENT_CONTENT_TYPES = {
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

export type DocumentFormatName = keyof typeof DOCUMENT_CONTENT_TYPES;

/** A document template of a module as the OpenAPI document lists it: its name and the formats it renders to. */
export interface DocumentTemplateSummary {
  name: string;
  formats: readonly DocumentFormatName[];
}

export const DOCUMENT_FORMATS = Object.keys(DOCUMENT_CONTENT_TYPES) as DocumentFormatName[];

/** The `Content-Disposition` of a document answer (here, and of a generateDocument tool). */
export function contentDispositionHeader(): OpenAPIV3_1.HeaderObject {
  return {
    description: '`inline` (HTML, PDF) or `attachment` (DOCX, XLSX), with the file name, e.g. `invoice-INV-00001.pdf`.',
    schema: asParameterSchema({ type: 'string' }),
  };
}

/** The content of a document answer in these formats, by content type. */
export function documentContent(formats: readonly DocumentFormatName[]): Record<string, OpenAPIV3_1.MediaTypeObject> {
  return Object.fromEntries(
    formats.map((format) => [
      DOCUMENT_CONTENT_TYPES[format],
      { schema: jsonSchema(format === 'html' ? { type: 'string' } : { type: 'string', contentMediaType: DOCUMENT_CONTENT_TYPES[format] }) },
    ]),
  );
}

/**
 * `GET /api/v1/<module>/{id}/documents/{template}`: a record printed through a document template. With `templates`
 * (the module's active templates) the template parameter is an enum of their names and the answer lists only the
 * content types they render to; without it (or for a module with none yet) any template name is documented, since a
 * template can be published at any time.
 */
export function documentPaths(
  module: ModuleDefinition,
  { pascal, tag }: ModuleNaming,
  templates?: readonly DocumentTemplateSummary[],
): Paths {
  const label = labelOf(module.label, module.name);
  const known = templates && templates.length > 0 ? [...templates].sort((a, b) => (a.name < b.name ? -1 : 1)) : undefined;
  const formats = known ? DOCUMENT_FORMATS.filter((f) => known.some((t) => t.formats.includes(f))) : DOCUMENT_FORMATS;
  const templateParameter: OpenAPIV3_1.ParameterObject = {
    name: 'template',
    in: 'path',
    required: true,
    description: known
      ? `The document template: ${known.map((t) => `\`${t.name}\` (${t.formats.join(', ')})`).join(', ')}.`
      : `The document template (${module.name} has none yet; publish one under /api/v1/admin/metadata/document-templates).`,
    schema: asParameterSchema(
      known ? { type: 'string', enum: known.map((t) => t.name) } : { type: 'string', pattern: TEMPLATE_NAME.source },
    ),
  };
  return {
    [`${RECORDS_BASE_PATH}/${module.name}/{id}/documents/{template}`]: {
      parameters: [parameterRef('RecordId'), templateParameter],
      get: {
        tags: [tag],
        operationId: `get${pascal}Document`,
        summary: `Print a ${label} through a document template`,
        description: [
          'Renders the record (with the records its relations point to, and its lines) through the template: HTML and PDF from',
          'the Handlebars template, DOCX and XLSX from the tag templates of the same name. HTML and PDF are sent `inline`, DOCX',
          `and XLSX as an \`attachment\` (\`Content-Disposition\` names the file). Needs \`${module.name}:read\`.`,
        ].join(' '),
        parameters: [parameterRef('DocumentFormat'), parameterRef('DocumentLang')],
        responses: {
          '200': {
            description: 'The document, in the requested format.',
            headers: { 'Content-Disposition': contentDispositionHeader() },
            content: documentContent(formats),
          },
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden', 'DocumentNotFound', 'RenderFailed', 'PdfUnavailable'),
        },
      },
    },
  };
}

/** The query parameters of the documents endpoint, shared by every module. */
export function documentParameters(): Record<string, OpenAPIV3_1.ParameterObject> {
  return {
    DocumentFormat: {
      name: 'format',
      in: 'query',
      description:
        'What to render: `html`, `pdf` (printed by headless Chromium; 503 without it), `docx` or `xlsx` (only templates with that tag template).',
      schema: asParameterSchema({ type: 'string', enum: DOCUMENT_FORMATS, default: 'html' }),
    },
    DocumentLang: {
      name: 'lang',
      in: 'query',
      description: 'The language of labels, texts, numbers, dates and money, e.g. `en`, `sv`, `sv-SE`.',
      schema: asParameterSchema({ type: 'string', pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$', default: 'en' }),
    },
  };
}
