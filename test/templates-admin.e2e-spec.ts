import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PizZip from 'pizzip';
import type { Response } from 'supertest';
import { binary } from './support/documents';
import { createRecord } from './support/factories';
import { describeTwoProcesses, startTestApp, type TestApp } from './support/test-app';
import { eventually } from './support/wait';

const ROOT = join(__dirname, '..');
const EMAIL = '/api/v1/admin/metadata/email-templates';
const DOCUMENTS = '/api/v1/admin/metadata/document-templates';

const SHEET_V1 = [
  '{{! document: { "module": "accounts", "texts": { "title": { "en": "Account sheet", "sv": "Kontoblad" } } } }}',
  '<h1>{{label "title"}}: {{account.name}}</h1>',
  '<p>v1 {{record.city}}</p>',
].join('\n');
const SHEET_V2 = SHEET_V1.replace('<p>v1', '<p>v2');

/** The shipped invoice.docx with `edit` applied to its document.xml, base64-encoded. */
function invoiceDocx(edit: (xml: string) => string = (xml) => xml): string {
  const zip = new PizZip(readFileSync(join(ROOT, 'templates', 'documents', 'invoice.docx')));
  zip.file('word/document.xml', edit(zip.file('word/document.xml')!.asText()));
  return (zip.generate({ type: 'nodebuffer' }) as Buffer).toString('base64');
}

describe('templates as metadata (admin API)', () => {
  let t: TestApp;
  let acme: Record<string, any>;
  beforeAll(async () => {
    t = await startTestApp({ smtpUrl: undefined });
    acme = await createRecord(t, 'accounts', { name: 'Acme <AB>', type: 'customer', city: 'Umeå' });
  });
  afterAll(() => t.close());

  const put = (path: string, body: unknown) =>
    t.http
      .put(path)
      .set('Authorization', t.auth)
      .send(body as object);
  const get = (path: string) => t.http.get(path).set('Authorization', t.auth);
  const sheet = (query = '') => get(`/api/v1/accounts/${acme.id}/documents/account-sheet${query}`);
  const expectProblem = (res: Response, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: `/problems/${type}` });
  };

  describe('succeeds', () => {
    it('imports the shipped template files as version 1 of each, bodies as in the files', async () => {
      const email = await get(EMAIL);
      expect(email.status).toBe(200);
      expect(email.body.data.map((m: { name: string }) => m.name)).toEqual(
        expect.arrayContaining(['invoice-overdue', 'opportunity-won', 'welcome']),
      );
      const welcome = await get(`${EMAIL}/welcome`);
      expect(welcome.body.data).toEqual({
        name: 'welcome',
        version: 1,
        body: { source: readFileSync(join(ROOT, 'templates', 'email', 'welcome.hbs'), 'utf8') },
      });
      const documents = await get(DOCUMENTS);
      expect(documents.body.data.map((m: { name: string }) => m.name)).toEqual(['certificate', 'invoice', 'quote']);
      const invoice = (await get(`${DOCUMENTS}/invoice`)).body.data;
      expect(invoice.body.source).toBe(readFileSync(join(ROOT, 'templates', 'documents', 'invoice.hbs'), 'utf8'));
      expect(Buffer.from(invoice.body.docx, 'base64').equals(readFileSync(join(ROOT, 'templates', 'documents', 'invoice.docx')))).toBe(
        true,
      );
      expect(Buffer.from(invoice.body.xlsx, 'base64').equals(readFileSync(join(ROOT, 'templates', 'documents', 'invoice.xlsx')))).toBe(
        true,
      );
      const versions = await get(`${DOCUMENTS}/invoice/versions`);
      expect(versions.body.data).toEqual([
        expect.objectContaining({ kind: 'document-template', version: 1, source: 'file', active: true }),
      ]);
    });

    it('publishes an email template; a workflow sends messages rendered with it; a new version is live at once', async () => {
      const v1 = '{{!-- subject: New product: {{product.name}} --}}\n<p>{{product.name}} is out (v1). {{constructor.constructor}}</p>';
      const created = await put(`${EMAIL}/product-news`, { source: v1 });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({ kind: 'email-template', name: 'product-news', version: 1, source: 'api', active: true });
      const workflow = await put('/api/v1/admin/metadata/workflows/product_news', {
        name: 'product_news',
        module: 'products',
        trigger: 'create',
        actions: [{ type: 'sendEmail', template: 'product-news', to: { addresses: ['news@example.com'] } }],
      });
      expect(workflow.status).toBe(201);

      const messageFor = async (name: string) => {
        const found = await eventually(
          async () =>
            ((await get('/api/v1/admin/mail')).body.data as Array<{ id: string; subject: string }>).find((m) => m.subject.includes(name)),
          (message) => message !== undefined,
        );
        return (await get(`/api/v1/admin/mail/${found!.id}`)).body.data;
      };
      await createRecord(t, 'products', { name: 'Saw <X1>' });
      const first = await messageFor('Saw <X1>');
      expect(first).toMatchObject({ template: 'product-news', status: 'kept', to: ['news@example.com'], subject: 'New product: Saw <X1>' });
      // Escaped in HTML, and no way to the Function constructor: the prototype path renders as nothing.
      expect(first.html).toBe('<p>Saw &lt;X1&gt; is out (v1). </p>');

      const v2 = await put(`${EMAIL}/product-news`, { source: v1.replace('(v1)', '(v2)').replace('New product', 'Nytt') });
      expect(v2.status).toBe(200);
      expect(v2.body.data).toMatchObject({ version: 2, source: 'api' });
      await createRecord(t, 'products', { name: 'Axe' });
      const second = await messageFor('Axe');
      expect(second).toMatchObject({ subject: 'Nytt: Axe', html: '<p>Axe is out (v2). </p>' });

      const rollback = await t.http.post(`${EMAIL}/product-news/rollback/1`).set('Authorization', t.auth);
      expect(rollback.status).toBe(200);
      expect(rollback.body.data).toMatchObject({ version: 3, source: 'rollback', active: true });
      await createRecord(t, 'products', { name: 'Plane' });
      expect((await messageFor('Plane')).subject).toBe('New product: Plane');
      const versions = await get(`${EMAIL}/product-news/versions`);
      expect(versions.body.data.map((v: { version: number; source: string; active: boolean }) => [v.version, v.source, v.active])).toEqual([
        [3, 'rollback', true],
        [2, 'api', false],
        [1, 'api', false],
      ]);
    });

    it('publishes a document template: rendered at once, in the language asked for; rollback restores the earlier body', async () => {
      const created = await put(`${DOCUMENTS}/account-sheet`, { source: SHEET_V1 });
      expect(created.status).toBe(201);
      const en = await sheet();
      expect(en.status).toBe(200);
      expect(en.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(en.text).toContain('<h1>Account sheet: Acme &lt;AB&gt;</h1>');
      expect(en.text).toContain('<p>v1 Umeå</p>');
      expect((await sheet('?lang=sv')).text).toContain('<h1>Kontoblad: Acme &lt;AB&gt;</h1>');

      expect((await put(`${DOCUMENTS}/account-sheet`, { source: SHEET_V2 })).status).toBe(200);
      expect((await sheet()).text).toContain('<p>v2 Umeå</p>');
      const rollback = await t.http.post(`${DOCUMENTS}/account-sheet/rollback/1`).set('Authorization', t.auth);
      expect(rollback.body.data).toMatchObject({ kind: 'document-template', version: 3, source: 'rollback' });
      expect((await sheet()).text).toContain('<p>v1 Umeå</p>');
      const versions = await get(`${DOCUMENTS}/account-sheet/versions`);
      expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    });

    it('no prototype access in a published document template', async () => {
      const source = [
        '{{! document: { "module": "accounts" } }}',
        '<p>[{{constructor.constructor}}|{{#with __proto__}}{{toString}}{{/with}}|{{lookup this "constructor"}}|{{account.__proto__}}]</p>',
      ].join('\n');
      expect((await put(`${DOCUMENTS}/account-probe`, { source })).status).toBe(201);
      const res = await get(`/api/v1/accounts/${acme.id}/documents/account-probe`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<p>[|||]</p>');
    });

    it('publishes DOCX and XLSX tag templates with a document template', async () => {
      const invoice = (await get(`${DOCUMENTS}/invoice`)).body.data.body;
      // The shipped invoice under another name: its HTML as stored, a DOCX built here, the stored XLSX.
      const put1 = await put(`${DOCUMENTS}/invoice-copy`, { source: invoice.source, docx: invoiceDocx(), xlsx: invoice.xlsx });
      expect(put1.status).toBe(201);
      const inv = await createRecord(t, 'invoices', {
        subject: 'Copy test',
        account: acme.id,
        lines: [{ description: 'Nails', quantity: 2, price: 5 }],
      });
      const docx = await get(`/api/v1/invoices/${inv.id}/documents/invoice-copy?format=docx`).buffer(true).parse(binary);
      expect(docx.status).toBe(200);
      expect(docx.headers['content-disposition']).toMatch(/^attachment; filename="invoice-copy-INV-\d+\.docx"$/);
      const xml = new PizZip(docx.body as Buffer).file('word/document.xml')!.asText();
      expect(xml).toContain('Nails');
      expect(xml).toContain(inv.number);
      const xlsx = await get(`/api/v1/invoices/${inv.id}/documents/invoice-copy?format=xlsx`);
      expect(xlsx.status).toBe(200);
    });

    it('lists published document templates in the OpenAPI document of their module', async () => {
      const res = await get('/api/openapi.json');
      const path = res.body.paths['/api/v1/accounts/{id}/documents/{template}'];
      const template = path.parameters.find((p: { name: string }) => p.name === 'template');
      expect(template.schema.enum).toEqual(['account-probe', 'account-sheet']);
      const invoices = res.body.paths['/api/v1/invoices/{id}/documents/{template}'];
      expect(invoices.parameters.find((p: { name: string }) => p.name === 'template').schema.enum).toEqual(['invoice', 'invoice-copy']);
      expect(res.body.paths['/api/v1/admin/metadata/email-templates/{name}'].put.operationId).toBe('adminPublishEmailTemplate');
      expect(res.body.paths['/api/v1/admin/metadata/document-templates/{name}/rollback/{version}'].post.operationId).toBe(
        'adminRollbackDocumentTemplate',
      );
    });
  });

  describe('fails', () => {
    it('a syntax error is a 422 naming file, JSON pointer, line and column; nothing is published and the old version still renders', async () => {
      const before = await get(`${EMAIL}/welcome/versions`);
      const broken = '{{!-- subject: Hi {{name}} --}}\n<p>\n  {{#if x}}\n  {{/each}}\n</p>\n';
      const res = await put(`${EMAIL}/welcome`, { source: broken });
      expectProblem(res, 422, 'invalid_metadata');
      expect(res.body).toEqual({
        type: '/problems/invalid_metadata',
        title: 'Unprocessable Content',
        status: 422,
        detail: `The email-template "welcome" has 1 problem: /source at line 3, column 6: if doesn't match each`,
        instance: `${EMAIL}/welcome`,
        errors: [{ field: '/source', code: 'invalid_metadata', message: "if doesn't match each", line: 3, column: 6 }],
        problems: [{ file: 'templates/email/welcome.hbs', pointer: '/source', line: 3, column: 6, message: "if doesn't match each" }],
      });
      expect((await get(`${EMAIL}/welcome/versions`)).body).toEqual(before.body);

      const sheetBefore = (await sheet()).text;
      const brokenSheet = await put(`${DOCUMENTS}/account-sheet`, {
        source: SHEET_V1.replace('<p>v1 {{record.city}}</p>', '<p>{{#each x}}</p>'),
      });
      expectProblem(brokenSheet, 422, 'invalid_metadata');
      expect(brokenSheet.body.problems).toEqual([
        {
          file: 'templates/documents/account-sheet.hbs',
          pointer: '/source',
          line: 3,
          column: 19,
          message: expect.stringMatching(/^parse error: Expecting .*got 'EOF'/),
        },
      ]);
      expect((await sheet()).text).toBe(sheetBefore);
    });

    it('a missing subject line, an unknown helper or a broken subject: each with its line and column', async () => {
      const noSubject = await put(`${EMAIL}/nosubject`, { source: '<p>{{name}}</p>' });
      expectProblem(noSubject, 422, 'invalid_metadata');
      expect(noSubject.body.problems).toEqual([
        {
          file: 'templates/email/nosubject.hbs',
          pointer: '/source',
          line: 1,
          column: 1,
          message: 'the first line must name the subject: {{!-- subject: Your subject with {{values}} --}}',
        },
      ]);
      const helpers = await put(`${EMAIL}/helpers`, {
        source: '{{!-- subject: Hi {{shout name}} --}}\n<p>\n{{constructor.constructor "return process"}}</p>',
      });
      expect(helpers.body.problems).toEqual([
        expect.objectContaining({ line: 1, column: 19, message: 'You specified knownHelpersOnly, but used the unknown helper shout' }),
        // A path called with arguments is a helper call, and `constructor` is no helper.
        {
          file: 'templates/email/helpers.hbs',
          pointer: '/source',
          line: 3,
          column: 1,
          message: 'You specified knownHelpersOnly, but used the unknown helper constructor',
        },
      ]);
      expect((await get(`${EMAIL}/helpers`)).status).toBe(404);
    });

    it('a document template for an unknown module, with a bad header or a broken tag template', async () => {
      const unknown = await put(`${DOCUMENTS}/gadget-sheet`, { source: '{{! document: {\n  "module": "gadgets" } }}\n<p></p>' });
      expectProblem(unknown, 422, 'invalid_metadata');
      expect(unknown.body.problems).toEqual([
        {
          file: 'templates/documents/gadget-sheet.hbs',
          pointer: '/source',
          line: 2,
          column: 13,
          message: expect.stringMatching(/^document header: there is no module "gadgets" \(known: .*accounts.*\)$/),
        },
      ]);
      const header = await put(`${DOCUMENTS}/no-header`, { source: '<p>{{record.name}}</p>' });
      expect(header.body.problems).toEqual([
        expect.objectContaining({
          pointer: '/source',
          line: 1,
          column: 1,
          message: expect.stringContaining('a document template starts with'),
        }),
      ]);
      const source = '{{! document: { "module": "invoices" } }}\n<p>{{invoice.number}}</p>';
      const notZip = await put(`${DOCUMENTS}/bad-docx`, { source, docx: Buffer.from('hello').toString('base64') });
      expect(notZip.body.problems).toEqual([
        {
          file: 'templates/documents/bad-docx.docx',
          pointer: '/docx',
          message: 'not a DOCX file (a .docx is a zip archive; the admin API takes it base64-encoded)',
        },
      ]);
      const badTag = await put(`${DOCUMENTS}/bad-docx`, {
        source,
        docx: invoiceDocx((xml) => xml.replace('{invoice.number}', '{invoice.number')),
      });
      expectProblem(badTag, 422, 'invalid_metadata');
      expect(badTag.body.problems).toEqual([
        expect.objectContaining({
          file: 'templates/documents/bad-docx.docx',
          pointer: '/docx',
          message: expect.stringMatching(/^DOCX template has/),
        }),
      ]);
      const notBase64 = await put(`${DOCUMENTS}/bad-docx`, { source, xlsx: 'not base64!' });
      expect(notBase64.body.problems).toEqual([
        expect.objectContaining({ pointer: '/xlsx', message: expect.stringContaining('must match pattern') }),
      ]);
      expect((await get(`${DOCUMENTS}/bad-docx`)).status).toBe(404);
    });

    it('a body that is not a template, or a bad template name: 422 with the pointer', async () => {
      const missing = await put(`${EMAIL}/empty`, { subject: 'x' });
      expectProblem(missing, 422, 'invalid_metadata');
      expect(missing.body.problems).toEqual(
        expect.arrayContaining([
          { file: 'templates/email/empty.hbs', pointer: '', message: 'missing required property "source"' },
          { file: 'templates/email/empty.hbs', pointer: '/subject', message: 'unknown property "subject"' },
        ]),
      );
      const notObject = await put(`${DOCUMENTS}/list`, ['x']);
      expect(notObject.body.problems).toEqual([{ file: 'templates/documents/list.hbs', pointer: '', message: 'must be object' }]);
      const name = await put(`${EMAIL}/Bad_Name`, { source: '{{!-- subject: x --}}' });
      expectProblem(name, 422, 'invalid_metadata');
      expect(name.body.problems).toEqual([
        {
          file: 'templates/email/Bad_Name.hbs',
          pointer: '',
          message: expect.stringContaining('a template name is 1–100 lower-case letters'),
        },
      ]);
    });

    it('dry run: validate answers the same problems with line and column and stores nothing', async () => {
      const res = await t.http
        .post(`${EMAIL}/welcome/validate`)
        .set('Authorization', t.auth)
        .send({ source: '{{!-- subject: Hi --}}\n<p>{{#each items}}\n' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        valid: false,
        errors: [
          { file: 'templates/email/welcome.hbs', pointer: '/source', line: 3, column: 1, message: expect.stringMatching(/^parse error/) },
        ],
      });
      const ok = await t.http
        .post(`${EMAIL}/welcome/validate`)
        .set('Authorization', t.auth)
        .send({ source: '{{!-- subject: Hi --}}\n<p>ok</p>' });
      expect(ok.body).toEqual({ valid: true, errors: [] });
      expect((await get(`${EMAIL}/welcome`)).body.data.version).toBe(1);
    });

    it('a workflow whose sendEmail names a template the set lacks', async () => {
      const res = await put('/api/v1/admin/metadata/workflows/product_ghost', {
        name: 'product_ghost',
        module: 'products',
        trigger: 'create',
        actions: [{ type: 'sendEmail', template: 'ghost', to: { addresses: ['a@example.com'] } }],
      });
      expectProblem(res, 422, 'invalid_metadata');
      expect(res.body.problems).toEqual([
        {
          file: 'modules/products/workflows/product_ghost.json',
          pointer: '/actions/0/template',
          message: expect.stringMatching(/^there is no email template "ghost" \(known: .*welcome.*\)$/),
        },
      ]);
    });

    it('versions of an unknown template, a rollback to an unknown version, an unknown kind: problem+json', async () => {
      expectProblem(await get(`${DOCUMENTS}/nope/versions`), 404, 'metadata_not_found');
      expectProblem(await t.http.post(`${EMAIL}/welcome/rollback/9`).set('Authorization', t.auth), 404, 'metadata_not_found');
      expectProblem(await t.http.post(`${EMAIL}/welcome/rollback/1`).set('Authorization', t.auth), 409, 'already_active');
      expectProblem(await get('/api/v1/admin/metadata/sms-templates'), 404, 'unknown_metadata_kind');
    });
  });
});

describe('template files at start', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metacrm-templates-'));
    mkdirSync(join(dir, 'modules', 'products'), { recursive: true });
    writeFileSync(join(dir, 'modules', 'products', 'module.json'), readFileSync(join(ROOT, 'modules', 'products', 'module.json'), 'utf8'));
    mkdirSync(join(dir, 'templates', 'email'), { recursive: true });
    mkdirSync(join(dir, 'templates', 'documents'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are imported once: a restart with unchanged files adds no versions; a changed file adds one', async () => {
    writeFileSync(join(dir, 'templates', 'email', 'hello.hbs'), '{{!-- subject: Hello --}}\n<p>v1</p>\n');
    writeFileSync(
      join(dir, 'templates', 'documents', 'price-list.hbs'),
      '{{! document: { "module": "products" } }}\n<p>{{product.name}}</p>\n',
    );
    const store = process.env.DATABASE_URL ? { databaseSchema: `t_${randomBytes(6).toString('hex')}` } : { dataDir: join(dir, 'data') };
    const versionsOf = async (app: TestApp, path: string) =>
      ((await app.http.get(`${path}/versions`).set('Authorization', app.auth)).body.data as Array<{ version: number; source: string }>).map(
        (v) => [v.version, v.source],
      );

    const first = await startTestApp({ rootDir: dir, ...store }, { keepSchema: true });
    await first.close();
    const second = await startTestApp({ rootDir: dir, ...store }, { keepSchema: true });
    expect(await versionsOf(second, `${EMAIL}/hello`)).toEqual([[1, 'file']]);
    expect(await versionsOf(second, `${DOCUMENTS}/price-list`)).toEqual([[1, 'file']]);
    await second.close();

    writeFileSync(join(dir, 'templates', 'email', 'hello.hbs'), '{{!-- subject: Hello --}}\n<p>v2</p>\n');
    const third = await startTestApp({ rootDir: dir, ...store });
    expect(await versionsOf(third, `${EMAIL}/hello`)).toEqual([
      [2, 'file'],
      [1, 'file'],
    ]);
    expect(await versionsOf(third, `${DOCUMENTS}/price-list`)).toEqual([[1, 'file']]);
    await third.close();
  });
});

describeTwoProcesses('a template published by one process', (apps) => {
  it('renders in the other processes too (LISTEN/NOTIFY)', async () => {
    const { a, b } = apps;
    const acme = await createRecord(b, 'accounts', { name: 'Acme', type: 'customer' });
    const put = await a.http.put(`${DOCUMENTS}/account-sheet`).set('Authorization', a.auth).send({ source: SHEET_V1 });
    expect(put.status).toBe(201);
    const res = await eventually(
      () => b.http.get(`/api/v1/accounts/${acme.id}/documents/account-sheet`).set('Authorization', b.auth),
      (r) => r.status === 200,
    );
    expect(res.text).toContain('<h1>Account sheet: Acme</h1>');
  });
});
