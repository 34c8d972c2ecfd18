import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { CardView } from '../cards/card.types';
import type { JobView } from '../jobs/job.repository';
import type { MailDetail } from '../mail/mail.repository';
import { findProjectRoot } from '../metadata/metadata-files';
import { METADATA_KINDS, readMetadataFiles, validateMetadataSet } from '../metadata/metadata-set';
import type { MetadataVersionView } from '../metadata/metadata.service';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { FIELD_TYPES } from '../metadata/metadata.types';
import type { ToolResult } from '../tools/tool.service';
import type { ToolDefinition } from '../tools/tool.types';
import { METADATA_KIND_DOCS } from './openapi-metadata-paths';
import { buildOpenApiDocument } from './openapi.builder';

function accounts(): ModuleDefinition {
  return {
    name: 'accounts',
    label: { en: 'Account', sv: 'Konto' },
    pluralLabel: { en: 'Accounts' },
    numbering: { prefix: 'ACC-', padding: 5 },
    fields: {
      name: { type: 'text', required: true, maxLength: 200, label: { en: 'Name' } },
      description: { type: 'textarea' },
      notes: { type: 'richtext' },
      employees: { type: 'integer', min: 0 },
      email: { type: 'email' },
      phone: { type: 'phone' },
      website: { type: 'url' },
      active: { type: 'boolean', default: true },
      founded: { type: 'date' },
      last_contact: { type: 'datetime' },
      industry: { type: 'picklist', options: ['it', 'retail', 'other'] },
      tags: { type: 'multipicklist', options: ['vip', 'partner'] },
      account_manager: { type: 'user' },
      customer_no: { type: 'autonumber', prefix: 'C', padding: 4 },
    },
  };
}

function salesOrders(): ModuleDefinition {
  return {
    name: 'sales_orders',
    label: { en: 'Sales order', sv: 'Order' },
    fields: {
      subject: { type: 'text', required: true },
      account: { type: 'relation', module: 'accounts', required: true },
      status: { type: 'picklist', options: ['draft', 'confirmed'], required: true, default: 'draft' },
      amount: { type: 'decimal' },
      total: { type: 'currency' },
      discount: { type: 'percent', min: 0, max: 100 },
      lines: {
        type: 'lines',
        fields: {
          product: { type: 'relation', module: 'products', required: true },
          quantity: { type: 'decimal', required: true },
          price: { type: 'currency' },
        },
      },
    },
  };
}

/** Runs swagger-parser's validation on a copy (it dereferences the document in place). */
async function swaggerValidate(doc: unknown): Promise<void> {
  await SwaggerParser.validate(structuredClone(doc) as never);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function operations(doc: OpenAPIV3_1.Document): [string, string, OpenAPIV3_1.OperationObject][] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((m) => item?.[m]).map((m): [string, string, OpenAPIV3_1.OperationObject] => [path, m, item![m]!]),
  );
}

function jsonRef($ref: string): OpenAPIV3_1.RequestBodyObject {
  return { content: { 'application/json': { schema: { $ref } } } };
}

function schemaOf(doc: OpenAPIV3_1.Document, name: string): OpenAPIV3_1.SchemaObject {
  return doc.components!.schemas![name];
}

/** The JSON schema of a response body (or request body), for an ajv that knows the components. */
function bodySchema(content: OpenAPIV3_1.ResponseObject | OpenAPIV3_1.RequestBodyObject | OpenAPIV3_1.ReferenceObject): object {
  return (content as OpenAPIV3_1.ResponseObject).content!['application/json'].schema as object;
}

/** ajv over the document's component schemas, `#/components/schemas/X` rewritten to `#/$defs/X`. */
function componentValidator(doc: OpenAPIV3_1.Document): (schema: object, value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const rewrite = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/')) as T;
  const defs = rewrite(doc.components!.schemas!);
  return (schema, value) => {
    const validate = ajv.compile({ $defs: defs, ...rewrite(schema) });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

/** Keys of `value` (top level) that `schema` (an object schema, or allOf of them) does not declare. */
function undocumented(doc: OpenAPIV3_1.Document, name: string, value: object): string[] {
  const declared = new Set<string>();
  const collect = (schema: OpenAPIV3_1.SchemaObject | OpenAPIV3_1.ReferenceObject): void => {
    if ('$ref' in schema) return collect(schemaOf(doc, schema.$ref.split('/').pop()!));
    Object.keys(schema.properties ?? {}).forEach((key) => declared.add(key));
    schema.allOf?.forEach(collect);
  };
  collect(schemaOf(doc, name));
  return Object.keys(value).filter((key) => !declared.has(key));
}

const RECORD_ID = '502eed6d-1c4b-4f4a-9a3e-7a8b9c0d1e2f';

function card(): CardView {
  return {
    module: { name: 'accounts', label: 'Konto' },
    record: { id: RECORD_ID, number: 'ACC-00001', version: 3 },
    blocks: [
      {
        id: 'main',
        label: 'Allmänt',
        columns: 2,
        collapsed: false,
        fields: [
          {
            name: 'industry',
            label: 'Bransch',
            type: 'picklist',
            value: 'it',
            displayValue: 'IT',
            visible: true,
            required: true,
            readOnly: false,
            options: ['it', 'retail'],
            explain: { requiredBy: 'industry_required', optionsBy: 'no_other', formula: { source: 'a + b', reads: ['a'], related: [] } },
          },
          {
            name: 'founded',
            label: 'Grundat',
            type: 'date',
            value: null,
            displayValue: null,
            visible: false,
            required: false,
            readOnly: true,
          },
        ],
      },
    ],
    relatedLists: [
      {
        id: 'contacts',
        label: 'Kontakter',
        module: 'contacts',
        columns: [{ name: 'name', label: 'Namn' }],
        records: [{ id: RECORD_ID, name: 'Ada' }],
        nextCursor: null,
        href: `/api/v1/contacts?filter%5Baccount%5D%5Beq%5D=${RECORD_ID}`,
      },
    ],
    tools: [
      {
        name: 'create_invoice',
        label: 'Skapa faktura',
        confirm: 'Säker?',
        parameters: [{ name: 'due', label: 'Förfaller', type: 'date', required: true }],
        href: `/api/v1/accounts/${RECORD_ID}/tools/create_invoice`,
      },
    ],
    links: { self: `/api/v1/accounts/${RECORD_ID}`, history: `/api/v1/accounts/${RECORD_ID}/history` },
  };
}

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument([salesOrders(), accounts()], {
    metadataVersion: '7',
    serverUrl: 'http://localhost:3000',
  });

  it('covers every field type in the fixture', () => {
    const types = new Set([accounts(), salesOrders()].flatMap((m) => Object.values(m.fields).map((f) => f.type)));
    expect(FIELD_TYPES.filter((t) => !types.has(t))).toEqual([]);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    await expect(swaggerValidate(doc)).resolves.toBeUndefined();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('7');
    expect(doc.servers).toEqual([{ url: 'http://localhost:3000' }]);
  });

  it('is checked by a validator that does reject a broken document', async () => {
    const broken = structuredClone(doc) as unknown as Record<string, unknown>;
    delete broken.info;
    await expect(swaggerValidate(broken)).rejects.toThrow(/info/);
    const dangling = structuredClone(doc);
    (dangling.paths!['/api/v1/accounts']!.post as { requestBody: unknown }).requestBody = jsonRef('#/components/schemas/Nope');
    await expect(swaggerValidate(dangling)).rejects.toThrow();
  }, 20_000);

  it('has unique operationIds and declares every path template parameter', () => {
    const ops = operations(doc);
    const ids = ops.map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['listAccounts', 'createAccounts', 'getSalesOrders', 'listSalesOrdersHistory']));
    // swagger-parser skips these checks for OpenAPI 3, so they are done here.
    for (const [path, method, op] of ops) {
      const item = doc.paths![path]!;
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) =>
        '$ref' in p ? doc.components!.parameters![p.$ref.split('/').pop()!] : p,
      );
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const inPath = declared.filter((p) => 'in' in p && p.in === 'path').map((p) => ('name' in p ? p.name : ''));
      expect({ path, method, params: inPath.sort() }).toEqual({ path, method, params: templated.sort() });
    }
  });

  it('uses concrete paths per module and the admin and health paths', () => {
    expect(Object.keys(doc.paths!)).toEqual(
      expect.arrayContaining([
        '/api/v1/accounts',
        '/api/v1/accounts/{id}',
        '/api/v1/accounts/{id}/archive',
        '/api/v1/accounts/{id}/unarchive',
        '/api/v1/accounts/{id}/history',
        '/api/v1/sales_orders/{id}',
        '/api/v1/admin/metadata/modules',
        '/api/v1/admin/metadata/modules/{name}',
        '/api/v1/admin/metadata/modules/{name}/validate',
        '/api/v1/admin/metadata/modules/{name}/versions',
        '/api/v1/admin/metadata/modules/{name}/rollback/{version}',
        '/api/v1/admin/api-keys',
        '/api/v1/admin/api-keys/{id}',
        '/api/v1/admin/api-keys/{id}/lock',
        '/api/v1/admin/api-keys/{id}/unlock',
        '/api/v1/accounts/{id}/card',
        '/api/v1/accounts/card/evaluate',
        '/api/v1/accounts/{id}/workflow-runs',
        '/api/v1/sales_orders/{id}/card',
        '/api/v1/sales_orders/card/evaluate',
        '/api/v1/sales_orders/{id}/workflow-runs',
        '/api/v1/admin/metadata/layouts/{name}',
        '/api/v1/admin/metadata/rules/{name}/validate',
        '/api/v1/admin/metadata/workflows/{name}/rollback/{version}',
        '/api/v1/admin/jobs',
        '/api/v1/admin/jobs/{id}',
        '/api/v1/admin/workflow-runs',
        '/api/v1/admin/workflow-runs/{run}/retry',
        '/api/v1/admin/mail',
        '/api/v1/admin/mail/{id}',
        '/api/v1/admin/mail/{id}/retry',
        '/health',
      ]),
    );
    expect(Object.keys(doc.paths!).some((p) => p.includes('{module}'))).toBe(false);
    expect(doc.tags!.map((t) => t.name)).toEqual(expect.arrayContaining(['Accounts', 'Sales order']));
  });

  it('documents the card, the draft evaluation and the workflow runs of every module', () => {
    for (const [module, pascal] of [
      ['accounts', 'Accounts'],
      ['sales_orders', 'SalesOrders'],
    ]) {
      const cardPath = doc.paths![`/api/v1/${module}/{id}/card`]!;
      expect(cardPath.get!.operationId).toBe(`get${pascal}Card`);
      expect(cardPath.parameters).toEqual([{ $ref: '#/components/parameters/RecordId' }]);
      expect(cardPath.get!.parameters).toEqual([
        { $ref: '#/components/parameters/CardLang' },
        { $ref: '#/components/parameters/CardExplain' },
      ]);
      expect(bodySchema(cardPath.get!.responses!['200'])).toMatchObject({ properties: { data: { $ref: '#/components/schemas/Card' } } });
      expect(Object.keys(cardPath.get!.responses!)).toEqual(['200', '400', '401', '403', '404']);

      const evaluate = doc.paths![`/api/v1/${module}/card/evaluate`]!;
      expect(Object.keys(evaluate)).toEqual(['post']);
      expect(evaluate.post!.operationId).toBe(`evaluate${pascal}Card`);
      expect(bodySchema(evaluate.post!.requestBody!)).toEqual({ $ref: '#/components/schemas/CardDraft' });
      expect(bodySchema(evaluate.post!.responses!['200'])).toMatchObject({
        properties: { data: { $ref: '#/components/schemas/CardEvaluation' } },
      });

      const runs = doc.paths![`/api/v1/${module}/{id}/workflow-runs`]!;
      expect(runs.get!.operationId).toBe(`list${pascal}WorkflowRuns`);
      expect(bodySchema(runs.get!.responses!['200'])).toMatchObject({
        properties: { data: { type: 'array', items: { $ref: '#/components/schemas/WorkflowRun' } } },
      });
    }
    const lang = doc.components!.parameters!.CardLang as OpenAPIV3_1.ParameterObject;
    expect(lang).toMatchObject({ name: 'lang', in: 'query' });
    expect(doc.components!.parameters!.CardExplain).toMatchObject({ name: 'explain', in: 'query', schema: { type: 'boolean' } });
  });

  it('describes the card as the card service builds it', () => {
    const check = componentValidator(doc);
    const cardSchema = { $ref: '#/components/schemas/Card' };
    expect(check(cardSchema, card())).toEqual([]);
    expect(undocumented(doc, 'Card', card())).toEqual([]);
    expect(undocumented(doc, 'CardBlock', card().blocks[0])).toEqual([]);
    expect(undocumented(doc, 'CardField', card().blocks[0].fields[0])).toEqual([]);
    expect(undocumented(doc, 'CardRelatedList', card().relatedLists[0])).toEqual([]);
    expect(undocumented(doc, 'CardTool', card().tools[0])).toEqual([]);
    expect(check(cardSchema, { ...card(), blocks: undefined })).not.toEqual([]);

    const draft: CardView = {
      ...card(),
      record: null,
      relatedLists: [],
      links: {},
      errors: [{ field: 'name', code: 'required', message: 'x' }],
    };
    const evaluation = { $ref: '#/components/schemas/CardEvaluation' };
    expect(check(evaluation, draft)).toEqual([]);
    expect(check(evaluation, { ...draft, errors: undefined })).not.toEqual([]);

    const body = { $ref: '#/components/schemas/CardDraft' };
    expect(check(body, { values: { name: 'Acme' } })).toEqual([]);
    expect(check(body, { id: RECORD_ID, values: { name: null } })).toEqual([]);
    expect(check(body, { values: {}, extra: 1 })).not.toEqual([]);
    expect(check(body, { id: 'nope', values: {} })).not.toEqual([]);
  });

  it('documents the metadata endpoints of every kind', () => {
    expect(Object.values(METADATA_KIND_DOCS).map((k) => k.segment)).toEqual(Object.values(METADATA_KINDS).map((k) => k.segment));
    const byId = new Map(operations(doc).map(([path, method, op]) => [op.operationId, { path, method, op }]));
    for (const { segment, one, many, body } of Object.values(METADATA_KIND_DOCS)) {
      const base = `/api/v1/admin/metadata/${segment}`;
      expect(byId.get(`adminList${many}`)).toMatchObject({ path: base, method: 'get' });
      expect(byId.get(`adminGet${one}`)).toMatchObject({ path: `${base}/{name}`, method: 'get' });
      expect(byId.get(`adminPublish${one}`)).toMatchObject({ path: `${base}/{name}`, method: 'put' });
      expect(byId.get(`adminValidate${one}`)).toMatchObject({ path: `${base}/{name}/validate`, method: 'post' });
      expect(byId.get(`adminList${one}Versions`)).toMatchObject({ path: `${base}/{name}/versions`, method: 'get' });
      expect(byId.get(`adminRollback${one}`)).toMatchObject({ path: `${base}/{name}/rollback/{version}`, method: 'post' });
      const publish = byId.get(`adminPublish${one}`)!.op;
      expect(bodySchema(publish.requestBody!)).toEqual({ $ref: `#/components/schemas/${body}` });
      expect(Object.keys(publish.responses!)).toEqual(expect.arrayContaining(['200', '201', '422']));
      expect(publish.responses!['422']).toEqual({ $ref: '#/components/responses/InvalidMetadata' });
      expect(schemaOf(doc, body)).toBeDefined();
    }
    const invalid = doc.components!.responses!.InvalidMetadata as OpenAPIV3_1.ResponseObject;
    expect(invalid.content!['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/MetadataProblemDetails' });

    const check = componentValidator(doc);
    const version: MetadataVersionView = {
      kind: 'layout',
      name: 'accounts',
      version: 2,
      checksum: 'abc',
      author: 'Bootstrap admin key',
      source: 'api',
      createdAt: '2025-01-01T00:00:00.000Z',
      active: true,
    };
    expect(check({ $ref: '#/components/schemas/MetadataVersion' }, version)).toEqual([]);
    expect(undocumented(doc, 'MetadataVersion', version)).toEqual([]);
    expect(check({ $ref: '#/components/schemas/RuleSet' }, [{ id: 'r', when: {}, hide: ['x'] }])).toEqual([]);
    expect(check({ $ref: '#/components/schemas/RuleSet' }, { rules: [] })).toEqual([]);
  });

  it('documents the template kinds: their bodies, and problems with line and column', () => {
    const check = componentValidator(doc);
    const email = { $ref: '#/components/schemas/EmailTemplateDefinition' };
    expect(check(email, { source: '{{!-- subject: Hi --}}\n<p>Hi</p>' })).toEqual([]);
    expect(check(email, {})).not.toEqual([]);
    expect(check(email, { source: 'x', module: 'accounts' })).not.toEqual([]);
    const document = { $ref: '#/components/schemas/DocumentTemplateDefinition' };
    expect(check(document, { source: '{{! document: { "module": "accounts" } }}', docx: 'UEsDBA==', xlsx: 'UEsDBA==' })).toEqual([]);
    expect(check(document, { docx: 'UEsDBA==' })).not.toEqual([]);
    const problem = { file: 'templates/email/welcome.hbs', pointer: '/source', line: 3, column: 6, message: "if doesn't match each" };
    expect(check({ $ref: '#/components/schemas/MetadataProblem' }, problem)).toEqual([]);
    expect(undocumented(doc, 'MetadataProblem', problem)).toEqual([]);
    expect(check({ $ref: '#/components/schemas/MetadataProblem' }, { ...problem, line: 0 })).not.toEqual([]);
    expect(undocumented(doc, 'FieldError', { field: '/source', code: 'invalid_metadata', message: 'x', line: 3, column: 6 })).toEqual([]);
    const templateName = (segment: string) =>
      (doc.paths![`/api/v1/admin/metadata/${segment}/{name}`]!.parameters![0] as OpenAPIV3_1.ParameterObject).schema as { pattern: string };
    for (const segment of ['email-templates', 'document-templates']) {
      expect(new RegExp(templateName(segment).pattern).test('invoice-overdue')).toBe(true);
      expect(new RegExp(templateName(segment).pattern).test('Bad Name')).toBe(false);
    }
  });

  it('documents the documents endpoint of every module, with its templates when known', async () => {
    const withTemplates = buildOpenApiDocument([salesOrders(), accounts()], {
      metadataVersion: '7',
      documentTemplates: new Map([
        [
          'sales_orders',
          [
            { name: 'order', formats: ['html', 'pdf', 'docx'] },
            { name: 'confirmation', formats: ['html', 'pdf'] },
          ],
        ],
      ]),
    });
    await expect(swaggerValidate(withTemplates)).resolves.toBeUndefined();
    const parameter = (item: OpenAPIV3_1.PathItemObject, name: string) =>
      item.parameters!.find((p) => 'name' in p && p.name === name) as OpenAPIV3_1.ParameterObject;

    const orders = withTemplates.paths!['/api/v1/sales_orders/{id}/documents/{template}']!;
    expect(orders.get!.operationId).toBe('getSalesOrdersDocument');
    expect(orders.get!.tags).toEqual(['Sales order']);
    expect(orders.parameters![0]).toEqual({ $ref: '#/components/parameters/RecordId' });
    expect(parameter(orders, 'template')).toMatchObject({
      in: 'path',
      required: true,
      schema: { type: 'string', enum: ['confirmation', 'order'] },
    });
    expect(parameter(orders, 'template').description).toContain('`order` (html, pdf, docx)');
    expect(orders.get!.parameters).toEqual([
      { $ref: '#/components/parameters/DocumentFormat' },
      { $ref: '#/components/parameters/DocumentLang' },
    ]);
    const ok = orders.get!.responses!['200'] as OpenAPIV3_1.ResponseObject;
    expect(Object.keys(ok.content!)).toEqual([
      'text/html',
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    ]);
    expect(ok.headers).toHaveProperty('Content-Disposition');
    expect(orders.get!.responses).toMatchObject({
      '400': { $ref: '#/components/responses/BadRequest' },
      '401': { $ref: '#/components/responses/Unauthorized' },
      '403': { $ref: '#/components/responses/Forbidden' },
      '404': { $ref: '#/components/responses/DocumentNotFound' },
      '422': { $ref: '#/components/responses/RenderFailed' },
      '503': { $ref: '#/components/responses/PdfUnavailable' },
    });
    const components = withTemplates.components!;
    expect(components.parameters!.DocumentFormat).toMatchObject({
      name: 'format',
      in: 'query',
      schema: { enum: ['html', 'pdf', 'docx', 'xlsx'], default: 'html' },
    });
    expect(components.parameters!.DocumentLang).toMatchObject({ name: 'lang', in: 'query', schema: { default: 'en' } });
    const notFound = components.responses!.DocumentNotFound as OpenAPIV3_1.ResponseObject;
    expect(notFound.content!['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/DocumentTemplateProblemDetails' });
    const check = componentValidator(withTemplates);
    const problem = {
      type: '/problems/document_template_not_found',
      title: 'Not Found',
      status: 404,
      detail: 'There is no html document template "receipt" for invoices (html templates for invoices: invoice).',
      instance: '/api/v1/invoices/x/documents/receipt',
      template: 'receipt',
      format: 'html',
      known: ['invoice'],
    };
    expect(check({ $ref: '#/components/schemas/DocumentTemplateProblemDetails' }, problem)).toEqual([]);
    expect(undocumented(withTemplates, 'DocumentTemplateProblemDetails', problem)).toEqual([]);
    expect((components.responses!.PdfUnavailable as OpenAPIV3_1.ResponseObject).description).toContain('Chromium');

    // A module without templates (yet) still has the endpoint, for any template name; so does every module when the
    // builder is not told the templates.
    const accountsPath = withTemplates.paths!['/api/v1/accounts/{id}/documents/{template}']!;
    expect(parameter(accountsPath, 'template').schema).toEqual({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,99}$' });
    expect(Object.keys((accountsPath.get!.responses!['200'] as OpenAPIV3_1.ResponseObject).content!)).toHaveLength(4);
    expect(doc.paths!['/api/v1/sales_orders/{id}/documents/{template}']).toBeDefined();
  });

  it('documents the tools endpoint of every module, with the shipped invoices tools', async () => {
    const { sources, problems } = await readMetadataFiles(findProjectRoot());
    const shipped = await validateMetadataSet(sources);
    expect([...problems, ...shipped.problems]).toEqual([]);
    const tools = new Map<string, ToolDefinition[]>();
    for (const tool of shipped.tools) tools.set(tool.module, [...(tools.get(tool.module) ?? []), tool]);
    const withTools = buildOpenApiDocument(shipped.modules, { metadataVersion: '3', tools });
    await expect(swaggerValidate(withTools)).resolves.toBeUndefined();
    const parameter = (item: OpenAPIV3_1.PathItemObject, name: string) =>
      item.parameters!.find((p) => 'name' in p && p.name === name) as OpenAPIV3_1.ParameterObject;

    const invoices = withTools.paths!['/api/v1/invoices/{id}/tools/{tool}']!;
    const run = invoices.post!;
    expect(run.operationId).toBe('runInvoicesTool');
    expect(run.tags).toEqual(['Invoices']);
    expect(invoices.parameters![0]).toEqual({ $ref: '#/components/parameters/RecordId' });
    const toolParameter = parameter(invoices, 'tool');
    expect(toolParameter).toMatchObject({
      in: 'path',
      required: true,
      schema: { type: 'string', enum: ['credit_invoice', 'print_invoice', 'send_invoice'] },
    });
    expect(toolParameter.description).toContain(
      '`credit_invoice` — Create credit invoice (createRecord: creates a record of `invoices` and updates this one)',
    );
    expect(toolParameter.description).toContain(
      '`print_invoice` — Print invoice (generateDocument: answers with the `invoice` document as pdf)',
    );
    expect(toolParameter.description).toContain(
      '`send_invoice` — Send invoice by email (sendEmail: queues the `invoice` email with `invoice` pdf attached)',
    );

    // The body: `params` as the server validates them, per tool.
    const body = run.requestBody as OpenAPIV3_1.RequestBodyObject;
    expect(body.required).toBe(false);
    expect(body.description).toContain('`credit_invoice`: `reason` (text)');
    expect(body.description).toContain('`print_invoice`: none');
    const bodySchema = body.content['application/json'].schema as OpenAPIV3_1.SchemaObject;
    const branches = (bodySchema.properties!.params as OpenAPIV3_1.SchemaObject).anyOf as OpenAPIV3_1.SchemaObject[];
    expect(branches.map((b) => b.title)).toEqual(['credit_invoice', 'print_invoice', 'send_invoice']);
    expect(branches[2].properties!.to).toMatchObject({
      title: 'To',
      format: 'email',
      description: expect.stringContaining("invoice's contact"),
    });
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const validBody = ajv.compile(bodySchema);
    expect(validBody({})).toBe(true);
    expect(validBody({ params: { reason: 'Damaged goods' } })).toBe(true);
    expect(validBody({ params: { to: 'eva.ek@example.com', message: 'Thank you!' } })).toBe(true);
    expect(validBody({ params: { to: 'not-an-address' } })).toBe(false);
    expect(validBody({ params: { reason: 'x'.repeat(201) } })).toBe(false);
    expect(validBody({ params: { colour: 'red' } })).toBe(false);

    // The answer: what the tool did as JSON, or the PDF print_invoice makes, with its file name.
    const ok = run.responses!['200'] as OpenAPIV3_1.ResponseObject;
    expect(Object.keys(ok.content!)).toEqual(['application/json', 'application/pdf']);
    expect(ok.content!['application/json'].schema).toEqual({
      type: 'object',
      required: ['data'],
      properties: { data: { $ref: '#/components/schemas/ToolResult' } },
    });
    expect(ok.content!['application/pdf'].schema).toEqual({ type: 'string', contentMediaType: 'application/pdf' });
    expect(ok.headers).toHaveProperty('Content-Disposition');
    expect(run.responses).toEqual({
      '200': ok,
      '400': { $ref: '#/components/responses/BadRequest' },
      '401': { $ref: '#/components/responses/Unauthorized' },
      '403': { $ref: '#/components/responses/Forbidden' },
      '404': { $ref: '#/components/responses/ToolNotFound' },
      '409': { $ref: '#/components/responses/ToolNotAvailable' },
      '413': { $ref: '#/components/responses/PayloadTooLarge' },
      '415': { $ref: '#/components/responses/UnsupportedMediaType' },
      '422': { $ref: '#/components/responses/ToolFailed' },
      '503': { $ref: '#/components/responses/PdfUnavailable' },
    });
    const responses = withTools.components!.responses!;
    expect((responses.ToolNotAvailable as OpenAPIV3_1.ResponseObject).description).toContain('tool_not_available');
    expect((responses.ToolNotFound as OpenAPIV3_1.ResponseObject).description).toContain('unknown_tool');
    expect((responses.ToolFailed as OpenAPIV3_1.ResponseObject).description).toContain('params.<name>');

    const check = componentValidator(withTools);
    const record = {
      id: RECORD_ID,
      number: 'INV-00002',
      module: 'invoices',
      version: 1,
      owner: null,
      createdBy: 'key',
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      archivedAt: null,
      subject: 'Credit: Timber',
    };
    const result: ToolResult = {
      tool: 'send_invoice',
      created: [record],
      updated: [{ ...record, number: 'INV-00001', version: 2, status: 'credited' }],
      mail: [{ id: RECORD_ID, status: 'queued', to: ['eva.ek@example.com'], cc: [], attachments: ['invoice-INV-00001.pdf'] }],
      runs: [
        { id: RECORD_ID, workflow: 'review_invoice', status: 'queued' },
        { id: RECORD_ID, workflow: 'review_invoice', status: 'stopped', error: 'Stopped: …' },
      ],
    };
    expect(check({ $ref: '#/components/schemas/ToolResult' }, result)).toEqual([]);
    expect(undocumented(withTools, 'ToolResult', result)).toEqual([]);
    expect(undocumented(withTools, 'ToolMail', result.mail[0])).toEqual([]);
    expect(undocumented(withTools, 'ToolRun', result.runs[1])).toEqual([]);
    expect(check({ $ref: '#/components/schemas/ToolResult' }, { ...result, runs: [{ ...result.runs[0], status: 'running' }] })).not.toEqual(
      [],
    );

    // A module without tools (yet) still has the endpoint, for any tool name and any answer; so does every module when
    // the builder is not told the tools.
    const accountsTools = withTools.paths!['/api/v1/accounts/{id}/tools/{tool}']!;
    expect(parameter(accountsTools, 'tool').schema).toEqual({ type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' });
    expect(Object.keys((accountsTools.post!.responses!['200'] as OpenAPIV3_1.ResponseObject).content!)).toHaveLength(5);
    expect(doc.paths!['/api/v1/sales_orders/{id}/tools/{tool}']!.post!.operationId).toBe('runSalesOrdersTool');

    // Tools that only write, and are always offered: JSON only, no 409, no 503.
    const confirm: ToolDefinition = {
      name: 'confirm',
      module: 'sales_orders',
      label: { en: 'Confirm' },
      parameters: { note: { type: 'text', required: true } },
      action: { type: 'updateRecord', values: { status: "'confirmed'" } },
    };
    const writesOnly = buildOpenApiDocument([salesOrders(), accounts()], {
      metadataVersion: '1',
      tools: new Map([['sales_orders', [confirm]]]),
    });
    await expect(swaggerValidate(writesOnly)).resolves.toBeUndefined();
    const confirmRun = writesOnly.paths!['/api/v1/sales_orders/{id}/tools/{tool}']!.post!;
    const confirmOk = confirmRun.responses!['200'] as OpenAPIV3_1.ResponseObject;
    expect(Object.keys(confirmOk.content!)).toEqual(['application/json']);
    expect(confirmOk.headers).toBeUndefined();
    expect(Object.keys(confirmRun.responses!)).toEqual(['200', '400', '401', '403', '404', '413', '415', '422']);
    const confirmBody = ajv.compile((confirmRun.requestBody as OpenAPIV3_1.RequestBodyObject).content['application/json'].schema as object);
    expect(confirmBody({ params: { note: 'ok' } })).toBe(true);
    expect(confirmBody({ params: {} })).toBe(false);
  }, 20_000);

  it('documents jobs, workflow runs and mail for admins', () => {
    const paths = doc.paths!;
    expect(paths['/api/v1/admin/jobs']!.get!.operationId).toBe('adminListJobs');
    expect(paths['/api/v1/admin/jobs/{id}']!.get!.operationId).toBe('adminGetJob');
    const listRuns = paths['/api/v1/admin/workflow-runs']!.get!;
    expect(listRuns.parameters!.map((p) => ('name' in p ? p.name : p.$ref))).toEqual(['status', 'workflow']);
    expect((listRuns.parameters![0] as OpenAPIV3_1.ParameterObject).schema).toMatchObject({
      enum: ['queued', 'running', 'waiting', 'completed', 'failed', 'stopped'],
    });
    const retryRun = paths['/api/v1/admin/workflow-runs/{run}/retry']!.post!;
    expect(Object.keys(retryRun.responses!)).toEqual(['202', '400', '401', '403', '404', '409']);
    expect(paths['/api/v1/admin/mail']!.get!.operationId).toBe('adminListMail');
    expect(paths['/api/v1/admin/mail/{id}']!.get!.operationId).toBe('adminGetMail');
    expect(Object.keys(paths['/api/v1/admin/mail/{id}/retry']!.post!.responses!)).toContain('202');

    const check = componentValidator(doc);
    const job: JobView = {
      id: RECORD_ID,
      type: 'formula.backfill',
      status: 'running',
      payload: { module: 'accounts' },
      progress: { done: 5, total: 10 },
      error: null,
      attempts: 1,
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:00:01.000Z',
      finishedAt: null,
    };
    expect(check({ $ref: '#/components/schemas/Job' }, job)).toEqual([]);
    expect(undocumented(doc, 'Job', job)).toEqual([]);
    const mail: MailDetail = {
      id: RECORD_ID,
      to: ['a@example.com'],
      cc: [],
      subject: 'Hi',
      status: 'kept',
      attempts: 0,
      lastError: null,
      template: 'opportunity-won',
      record: { module: 'opportunities', id: RECORD_ID },
      createdAt: '2025-01-01T00:00:00.000Z',
      sentAt: null,
      html: '<p>Hi</p>',
      text: 'Hi',
      attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', size: 10 }],
      idempotencyKey: null,
      workflowRunId: null,
    };
    expect(check({ $ref: '#/components/schemas/MailMessageDetail' }, mail)).toEqual([]);
    expect(undocumented(doc, 'MailMessageDetail', mail)).toEqual([]);
    const step = {
      step: 0,
      action: 'sendEmail',
      status: 'completed',
      attempts: 1,
      result: { mailId: RECORD_ID },
      error: null,
      startedAt: '2025-01-01T00:00:00.000Z',
      finishedAt: '2025-01-01T00:00:00.010Z',
      durationMs: 10,
    };
    const run = {
      id: RECORD_ID,
      workflow: 'opportunity_won',
      module: 'opportunities',
      recordId: RECORD_ID,
      trigger: 'update',
      status: 'failed',
      error: 'boom',
      attempts: 5,
      depth: 0,
      causation: [{ workflow: 'x', module: 'accounts', recordId: RECORD_ID }],
      resumeAt: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      steps: [step],
    };
    expect(check({ $ref: '#/components/schemas/WorkflowRun' }, run)).toEqual([]);
    expect(check({ $ref: '#/components/schemas/WorkflowRun' }, { ...run, status: 'lost' })).not.toEqual([]);
    expect(check({ $ref: '#/components/schemas/WorkflowRun' }, { ...run, trigger: 'manual' })).toEqual([]);
    expect((schemaOf(doc, 'WorkflowRun').properties!.trigger as OpenAPIV3_1.SchemaObject).description).toMatch(/`schedule`.*`manual`/);
  });

  it('tags every operation with a declared tag; its schemas compile with ajv strict and none is named like a module one', () => {
    const declared = new Set(doc.tags!.map((t) => t.name));
    for (const [, , op] of operations(doc)) for (const tag of op.tags ?? []) expect(declared).toContain(tag);
    const check = componentValidator(doc);
    for (const name of Object.keys(doc.components!.schemas!)) {
      expect(() => check({ $ref: `#/components/schemas/${name}` }, null)).not.toThrow();
    }
    const empty = buildOpenApiDocument([], { metadataVersion: '0' });
    expect(Object.keys(empty.components!.schemas!).filter((name) => /(Record|Create|Update)$/.test(name))).toEqual([]);
  });

  it('requires the bearer API key everywhere except /health', () => {
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components!.securitySchemes!.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, , op] of operations(doc)) expect(op.security).toEqual(path === '/health' ? [] : undefined);
  });

  it('answers errors with problem+json', () => {
    const patch = doc.paths!['/api/v1/accounts/{id}']!.patch!;
    const create = doc.paths!['/api/v1/accounts']!.post!;
    const errors = { ...create.responses, ...patch.responses };
    for (const status of ['400', '401', '403', '404', '409', '412', '413', '415', '422']) {
      const ref = errors[status] as OpenAPIV3_1.ReferenceObject;
      const response = doc.components!.responses![ref.$ref.split('/').pop()!] as OpenAPIV3_1.ResponseObject;
      expect(response.content).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
    }
    expect(schemaOf(doc, 'Problem').required).toEqual(['type', 'title', 'status']);
  });

  it('describes record operations with their headers and envelopes', () => {
    const collection = doc.paths!['/api/v1/accounts']!;
    const created = collection.post!.responses!['201'] as OpenAPIV3_1.ResponseObject;
    expect(Object.keys(created.headers!)).toEqual(['ETag', 'Location']);
    expect(created.content!['application/json'].schema).toMatchObject({
      properties: { data: { $ref: '#/components/schemas/AccountsRecord' } },
    });
    const list = collection.get!;
    const names = list.parameters!.map((p) => ('name' in p ? p.name : p.$ref));
    expect(names).toEqual(['filter', 'sort', '#/components/parameters/Limit', '#/components/parameters/Cursor', 'fields', 'q', 'archived']);
    const filter = list.parameters![0] as OpenAPIV3_1.ParameterObject;
    expect(filter).toMatchObject({ style: 'deepObject', explode: true });
    expect(filter.description).toContain('`industry` (picklist)');
    const item = doc.paths!['/api/v1/accounts/{id}']!;
    expect(item.patch!.parameters).toEqual([{ $ref: '#/components/parameters/IfMatch' }]);
    expect(item.delete!.responses!['204']).toBeDefined();
  });

  it('compiles the module schemas and list parameters with ajv strict', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const [name, schema] of Object.entries(doc.components!.schemas!)) {
      if (/(Record|Create|Update)$/.test(name)) expect(() => ajv.compile(schema)).not.toThrow();
    }
    const params = doc.paths!['/api/v1/sales_orders']!.get!.parameters as OpenAPIV3_1.ParameterObject[];
    const sort = ajv.compile(params[1].schema as object);
    expect(sort('-createdAt,subject,status')).toBe(true);
    expect(sort('lines')).toBe(false);
    expect(sort('subject;drop')).toBe(false);
    const filter = ajv.compile(params[0].schema as object);
    expect(filter({ status: { in: 'draft,confirmed' }, amount: { gte: '10' }, account: { empty: false } })).toBe(true);
    expect(filter({ lines: { eq: 'x' } })).toBe(false);
    expect(filter({ status: { like: 'x' } })).toBe(false);
  });

  it('changes when a module is published with a new field', () => {
    const changed = accounts();
    changed.fields.vat_number = { type: 'text', maxLength: 20, label: { en: 'VAT number' } };
    const next = buildOpenApiDocument([salesOrders(), changed], { metadataVersion: '8' });
    expect(next.info.version).not.toBe(doc.info.version);
    expect(schemaOf(doc, 'AccountsRecord').properties).not.toHaveProperty('vat_number');
    expect(schemaOf(next, 'AccountsRecord').properties).toHaveProperty('vat_number');
    expect(schemaOf(next, 'AccountsCreate').properties!.vat_number).toMatchObject({ title: 'VAT number', maxLength: 20 });
    expect(JSON.stringify(next.paths)).not.toBe(JSON.stringify(doc.paths));
  });

  it('does not depend on module order, and keeps clashing names apart', () => {
    const reordered = buildOpenApiDocument([accounts(), salesOrders()], { metadataVersion: '7', serverUrl: 'http://localhost:3000' });
    expect(JSON.stringify(reordered)).toBe(JSON.stringify(doc));
    const twin: ModuleDefinition = { ...accounts(), name: 'account_s' };
    const clash = buildOpenApiDocument([twin, { ...accounts(), name: 'accounts_' }], { metadataVersion: '1' });
    const ids = operations(clash).map(([, , op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(clash.tags!.map((t) => t.name)).size).toBe(clash.tags!.length);
    // `getAccountsCard` would be both the card of `accounts` and the get of `accounts_card`.
    const suffixes = buildOpenApiDocument(
      [accounts(), { ...accounts(), name: 'accounts_card' }, { ...accounts(), name: 'accounts_history' }],
      { metadataVersion: '1' },
    );
    const suffixIds = operations(suffixes).map(([, , op]) => op.operationId);
    expect(new Set(suffixIds).size).toBe(suffixIds.length);
    expect(suffixes.paths!['/api/v1/accounts/{id}/card']!.get!.operationId).toBe('getAccountsCard');
    expect(suffixes.paths!['/api/v1/accounts_card/{id}']!.get!.operationId).toBe('getAccountsCard2');
  });
});
