import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { FIELD_TYPES } from '../metadata/metadata.types';
import { labelOf } from '../records/record-schema.builder';
import {
  asParameterSchema,
  dataEnvelope,
  errorResponses,
  jsonBody,
  jsonResponse,
  parameterRef,
  type Paths,
  schemaRef,
} from './openapi-components';
import { type ModuleNaming, RECORDS_BASE_PATH } from './openapi-record-paths';

/** The entity card of a module: `GET /<m>/{id}/card` and the draft evaluation `POST /<m>/card/evaluate`. */
export function cardPaths(module: ModuleDefinition, { pascal, tag }: ModuleNaming): Paths {
  const base = `${RECORDS_BASE_PATH}/${module.name}`;
  const label = labelOf(module.label, module.name);
  const query = [parameterRef('CardLang'), parameterRef('CardExplain')];

  return {
    [`${base}/{id}/card`]: {
      parameters: [parameterRef('RecordId')],
      get: {
        tags: [tag],
        operationId: `get${pascal}Card`,
        summary: `The entity card of a ${label}`,
        description: [
          'The layout resolved for the record: blocks of fields with their values, display values (in the language) and the',
          'state the rules give them, the first page of each related list the key may read, the tools and links. Needs',
          `\`${module.name}:read\`.`,
        ].join(' '),
        parameters: query,
        responses: {
          '200': jsonResponse(`The card of the ${label}.`, dataEnvelope(schemaRef('Card'))),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound'),
        },
      },
    },
    [`${base}/card/evaluate`]: {
      post: {
        tags: [tag],
        operationId: `evaluate${pascal}Card`,
        summary: `Evaluate an unsaved ${label}`,
        description: [
          'Applies the rules and formulas to a draft — a new record, or the changed fields of record `id` — and returns the card',
          'a save would produce, with the `errors` the save would get. Nothing is stored; invalid values are answered with 200',
          `and listed in \`errors\`. A UI calls it on every change. Needs \`${module.name}:read\`.`,
        ].join(' '),
        parameters: query,
        requestBody: jsonBody(schemaRef('CardDraft')),
        responses: {
          '200': jsonResponse('The card of the draft.', dataEnvelope(schemaRef('CardEvaluation'))),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'PayloadTooLarge', 'UnsupportedMediaType'),
        },
      },
    },
  };
}

export function cardParameters(): Record<string, OpenAPIV3_1.ParameterObject> {
  return {
    CardLang: {
      name: 'lang',
      in: 'query',
      description: 'The language of labels and display values, e.g. `en`, `sv`, `pt-BR`.',
      schema: asParameterSchema({ type: 'string', pattern: '^[a-z]{2}(-[A-Z]{2})?$', default: 'en' }),
    },
    CardExplain: {
      name: 'explain',
      in: 'query',
      description: '`true` adds `explain` to each field: which rule decided its state, and what its formula reads.',
      schema: asParameterSchema({ type: 'boolean', default: false }),
    },
  };
}

const NULLABLE_STRING: OpenAPIV3_1.SchemaObject = { type: ['string', 'null'] };

export function cardSchemas(): Record<string, OpenAPIV3_1.SchemaObject> {
  const ruleId = (what: string): OpenAPIV3_1.SchemaObject => ({
    type: 'string',
    description: `The rule id (or \`field definition\`) that ${what}.`,
  });
  return {
    Card: {
      type: 'object',
      description: 'The entity card: the module layout resolved for one record or draft, in one language.',
      required: ['module', 'record', 'blocks', 'relatedLists', 'tools', 'links'],
      properties: {
        module: {
          type: 'object',
          required: ['name', 'label'],
          properties: { name: { type: 'string' }, label: { type: 'string' } },
        },
        record: {
          description: 'The record shown; `null` for the draft of a new record.',
          oneOf: [
            {
              type: 'object',
              required: ['id', 'number', 'version'],
              properties: {
                id: { type: 'string', format: 'uuid' },
                number: NULLABLE_STRING,
                version: { type: 'integer', minimum: 1 },
              },
            },
            { type: 'null' },
          ],
        },
        blocks: {
          type: 'array',
          description: 'In layout order; fields in neither a block nor `hidden` come last, in an automatic block.',
          items: schemaRef('CardBlock'),
        },
        relatedLists: { type: 'array', description: 'Empty for a draft.', items: schemaRef('CardRelatedList') },
        tools: {
          type: 'array',
          description: 'The module tools offered for the record (their `visibleWhen` holds), as buttons in order.',
          items: schemaRef('CardTool'),
        },
        links: {
          type: 'object',
          description: 'Where the record and its field history are; empty for a new draft.',
          properties: { self: { type: 'string', format: 'uri-reference' }, history: { type: 'string', format: 'uri-reference' } },
        },
        errors: {
          type: 'array',
          description: 'Only from the draft evaluation: what a save would reject.',
          items: schemaRef('FieldError'),
        },
      },
    },
    CardEvaluation: {
      description: 'The card of a draft, with the errors a save would get.',
      allOf: [
        schemaRef('Card'),
        { type: 'object', required: ['errors'], properties: { errors: { type: 'array', items: schemaRef('FieldError') } } },
      ],
    },
    CardBlock: {
      type: 'object',
      required: ['id', 'label', 'columns', 'collapsed', 'fields'],
      properties: {
        id: { type: 'string' },
        label: { type: 'string' },
        columns: { type: 'integer', minimum: 1, maximum: 4 },
        collapsed: { type: 'boolean' },
        fields: { type: 'array', items: schemaRef('CardField') },
      },
    },
    CardField: {
      type: 'object',
      required: ['name', 'label', 'type', 'value', 'displayValue', 'visible', 'required', 'readOnly'],
      properties: {
        name: { type: 'string' },
        label: { type: 'string', description: 'In the requested language.' },
        type: { type: 'string', enum: [...FIELD_TYPES] },
        value: { description: 'The stored (or draft) value, as in the record; `null` when empty.' },
        displayValue: {
          type: ['string', 'null'],
          description: "Formatted for the language: numbers, dates, options; a relation by the related record's name.",
        },
        visible: { type: 'boolean' },
        required: { type: 'boolean' },
        readOnly: { type: 'boolean' },
        options: {
          type: 'array',
          description: 'Picklists only: the options allowed now, narrowed by rules where they apply.',
          items: { type: 'string' },
        },
        explain: {
          type: 'object',
          description: 'With `explain=true` only.',
          properties: {
            hiddenBy: ruleId('hid the field'),
            shownBy: ruleId('showed the field'),
            requiredBy: ruleId('made the field required'),
            readOnlyBy: ruleId('made the field read-only'),
            optionsBy: ruleId('narrowed the options'),
            formula: {
              type: 'object',
              required: ['source', 'reads', 'related'],
              properties: {
                source: { type: 'string', description: 'The formula expression.' },
                reads: { type: 'array', description: 'Fields of this record it reads.', items: { type: 'string' } },
                related: {
                  type: 'array',
                  description: 'Related records it reads, as `<kind>:<module>.<relation>`.',
                  items: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
    CardRelatedList: {
      type: 'object',
      description: 'The first page of records of another module whose relation points to this record.',
      required: ['id', 'label', 'module', 'columns', 'records', 'nextCursor', 'href'],
      properties: {
        id: { type: 'string' },
        label: { type: 'string' },
        module: { type: 'string' },
        columns: {
          type: 'array',
          items: { type: 'object', required: ['name', 'label'], properties: { name: { type: 'string' }, label: { type: 'string' } } },
        },
        records: {
          type: 'array',
          description: '`id` and the columns of each record.',
          items: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } },
        },
        nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` to `href` for the next page; `null` on the last page.' },
        href: { type: 'string', format: 'uri-reference', description: 'The list request of these records, without `limit`.' },
      },
    },
    CardTool: {
      type: 'object',
      required: ['name', 'label', 'parameters'],
      properties: {
        name: { type: 'string' },
        label: { type: 'string', description: 'In the requested language.' },
        confirm: { type: 'string', description: 'Ask the user this before running the tool.' },
        parameters: {
          type: 'array',
          description: 'What the user enters before the tool runs.',
          items: {
            type: 'object',
            required: ['name', 'label', 'type', 'required'],
            properties: {
              name: { type: 'string' },
              label: { type: 'string' },
              type: { type: 'string', enum: [...FIELD_TYPES] },
              required: { type: 'boolean' },
              options: { type: 'array', items: { type: 'string' } },
            },
          },
        },
        href: {
          type: 'string',
          format: 'uri-reference',
          description: [
            'POST `{ "params": {...} }` here to run the tool on the record (the module\'s `run<Module>Tool` operation): the answer is',
            'a `ToolResult`, or the document itself for a tool whose action is `generateDocument`.',
          ].join(' '),
        },
      },
    },
    CardDraft: {
      type: 'object',
      additionalProperties: false,
      description: '`{ "values": {...} }` for a new record, or `{ "id", "values": {...changed fields} }` for an edit.',
      properties: {
        id: { type: 'string', format: 'uuid', description: 'The record being edited; leave out for a new record.' },
        values: {
          type: 'object',
          description: "Field values as in the module's `Update` schema; `null` empties a field. Invalid values come back in `errors`.",
        },
      },
    },
  };
}
