import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { FIELD_TYPES } from '../metadata/metadata.types';
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
        '/health',
      ]),
    );
    expect(Object.keys(doc.paths!).some((p) => p.includes('{module}'))).toBe(false);
    expect(doc.tags!.map((t) => t.name)).toEqual(expect.arrayContaining(['Accounts', 'Sales order']));
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
  });
});
