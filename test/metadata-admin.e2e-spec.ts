import SwaggerParser from '@apidevtools/swagger-parser';
import { startTestApp, type TestApp } from './support/test-app';

const warehouses = (extra: Record<string, unknown> = {}) => ({
  $schema: '../../metadata/schema/module.schema.json',
  name: 'warehouses',
  label: { en: 'Warehouse', sv: 'Lager' },
  numbering: { prefix: 'WH-', padding: 3 },
  fields: {
    name: { type: 'text', required: true, label: { en: 'Name', sv: 'Namn' } },
    account: { type: 'relation', module: 'accounts', label: { en: 'Account', sv: 'Konto' } },
    ...extra,
  },
});

describe('admin metadata API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('succeeds', () => {
    it('lists the shipped modules and reads one with its version', async () => {
      const list = await t.http.get('/api/v1/admin/metadata/modules').set('Authorization', t.auth);
      expect(list.status).toBe(200);
      expect(list.body.data.map((m: { name: string }) => m.name)).toEqual(
        expect.arrayContaining(['accounts', 'activities', 'contacts', 'invoices', 'opportunities', 'products']),
      );
      const one = await t.http.get('/api/v1/admin/metadata/modules/accounts').set('Authorization', t.auth);
      expect(one.status).toBe(200);
      expect(one.body.data).toMatchObject({
        name: 'accounts',
        version: 1,
        body: { name: 'accounts', label: { en: 'Account', sv: 'Konto' } },
      });
    });

    it('creates a module with PUT; it serves records on the next request, without restart', async () => {
      const put = await t.http.put('/api/v1/admin/metadata/modules/warehouses').set('Authorization', t.auth).send(warehouses());
      expect(put.status).toBe(201);
      expect(put.body.data).toMatchObject({ name: 'warehouses', version: 1, source: 'api', active: true });
      const created = await t.http.post('/api/v1/warehouses').set('Authorization', t.auth).send({ name: 'Central' });
      expect(created.status).toBe(201);
      expect(created.body.data.number).toBe('WH-001');
    });

    it('publishes a change as a new version that applies at once; rollback restores the earlier body as a newer version', async () => {
      await t.http.put('/api/v1/admin/metadata/modules/warehouses').set('Authorization', t.auth).send(warehouses());
      const rejected = await t.http.post('/api/v1/warehouses').set('Authorization', t.auth).send({ name: 'North', capacity: 10 });
      expect(rejected.status).toBe(422);

      const v2 = await t.http
        .put('/api/v1/admin/metadata/modules/warehouses')
        .set('Authorization', t.auth)
        .send(warehouses({ capacity: { type: 'integer', min: 0, indexed: true } }));
      expect(v2.status).toBe(200);
      const accepted = await t.http.post('/api/v1/warehouses').set('Authorization', t.auth).send({ name: 'North', capacity: 10 });
      expect(accepted.status).toBe(201);

      const versions = await t.http.get('/api/v1/admin/metadata/modules/warehouses/versions').set('Authorization', t.auth);
      const newest = versions.body.data[0];
      expect(newest).toMatchObject({ version: v2.body.data.version, active: true });
      const previous = versions.body.data[1].version;

      const rollback = await t.http.post(`/api/v1/admin/metadata/modules/warehouses/rollback/${previous}`).set('Authorization', t.auth);
      expect(rollback.status).toBe(200);
      expect(rollback.body.data).toMatchObject({ version: newest.version + 1, source: 'rollback', active: true });
      const again = await t.http.post('/api/v1/warehouses').set('Authorization', t.auth).send({ name: 'South', capacity: 10 });
      expect(again.status).toBe(422);
      expect(again.body.errors).toEqual([expect.objectContaining({ field: 'capacity', code: 'unknown_field' })]);
    });

    it('creates the expression index of an indexed field when the module is published', async () => {
      await t.http
        .put('/api/v1/admin/metadata/modules/warehouses')
        .set('Authorization', t.auth)
        .send(warehouses({ capacity: { type: 'integer', min: 0, indexed: true } }));
      const rows = await t.db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'rx_warehouses__capacity'`);
      expect(rows).toHaveLength(1);
      expect(rows[0].indexdef).toContain("WHERE (module = 'warehouses'::text)");
    });

    it('validates without publishing (dry run)', async () => {
      const ok = await t.http.post('/api/v1/admin/metadata/modules/warehouses/validate').set('Authorization', t.auth).send(warehouses());
      expect(ok.body).toEqual({ valid: true, errors: [] });
      const bad = await t.http
        .post('/api/v1/admin/metadata/modules/warehouses/validate')
        .set('Authorization', t.auth)
        .send(
          warehouses({ zone: { type: 'picklist', options: ['a', 'b'], default: 'c' }, owner_site: { type: 'relation', module: 'sites' } }),
        );
      expect(bad.status).toBe(200);
      expect(bad.body.valid).toBe(false);
      expect(bad.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ file: 'modules/warehouses/module.json', pointer: '/fields/zone/default' }),
          expect.objectContaining({ pointer: '/fields/owner_site/module', message: expect.stringContaining('sites') }),
        ]),
      );
    });

    it('regenerates the OpenAPI document when a module is published, and it stays valid', async () => {
      const before = await t.http.get('/api/openapi.json').set('Authorization', t.auth);
      expect(before.status).toBe(200);
      await t.http
        .put('/api/v1/admin/metadata/modules/warehouses')
        .set('Authorization', t.auth)
        .send(warehouses({ manager: { type: 'text', maxLength: 80 } }));
      const after = await t.http.get('/api/openapi.json').set('Authorization', t.auth);
      expect(after.body.info.version).not.toBe(before.body.info.version);
      expect(after.body.components.schemas.WarehousesCreate.properties).toHaveProperty('manager');
      expect(after.body.paths).toHaveProperty('/api/v1/warehouses/{id}');
      await expect(SwaggerParser.validate(structuredClone(after.body))).resolves.toBeDefined();
    });

    it('serves the docs page without a key (it holds no data) but not the document', async () => {
      const page = await t.http.get('/api/docs');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect((await t.http.get('/api/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
      expect((await t.http.get('/api/openapi.json')).status).toBe(401);
    });
  });

  describe('fails', () => {
    it('rejects invalid metadata with every problem, each with a JSON pointer, and publishes nothing', async () => {
      const res = await t.http
        .put('/api/v1/admin/metadata/modules/gadgets')
        .set('Authorization', t.auth)
        .send({
          name: 'gadgets',
          label: { en: 'Gadget' },
          fields: { size: { type: 'huge' }, id: { type: 'text' }, owner_site: { type: 'relation', module: 'sites' } },
        });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.type).toBe('/problems/invalid_metadata');
      const pointers = res.body.problems.map((p: { pointer: string }) => p.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/fields/size/type', '/fields/id', '/fields/owner_site/module']));
      // line and column are for problems inside a text value (a template's source), not for JSON bodies.
      expect(res.body.problems.filter((p: object) => 'line' in p || 'column' in p)).toEqual([]);
      expect((await t.http.get('/api/v1/gadgets').set('Authorization', t.auth)).status).toBe(404);
    });

    it('rejects a body whose name differs from the URL', async () => {
      const res = await t.http.put('/api/v1/admin/metadata/modules/depots').set('Authorization', t.auth).send(warehouses());
      expect(res.status).toBe(422);
      expect(res.body.problems[0]).toMatchObject({ pointer: '/name' });
    });

    it('answers 404 for versions of an unknown module and a rollback to an unknown version', async () => {
      expect((await t.http.get('/api/v1/admin/metadata/modules/nothing/versions').set('Authorization', t.auth)).status).toBe(404);
      expect((await t.http.post('/api/v1/admin/metadata/modules/accounts/rollback/999').set('Authorization', t.auth)).status).toBe(404);
      expect((await t.http.post('/api/v1/admin/metadata/modules/accounts/rollback/abc').set('Authorization', t.auth)).status).toBe(400);
    });

    it('answers 404 for an unknown kind, naming every kind there is', async () => {
      const res = await t.http.get('/api/v1/admin/metadata/widgets').set('Authorization', t.auth);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        type: '/problems/unknown_metadata_kind',
        detail: 'There is no metadata kind "widgets"; use modules, layouts, rules, workflows, tools, email-templates, document-templates.',
      });
    });
  });
});
