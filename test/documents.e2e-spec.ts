import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PizZip from 'pizzip';
import type { Response } from 'supertest';
import { DocumentTemplateStore } from '../src/documents/document-template.store';
import { MetadataRegistry } from '../src/metadata/metadata.registry';
import { readMetadataFiles, validateMetadataSet } from '../src/metadata/metadata-set';
import { MetadataBootException } from '../src/metadata/metadata.service';
import { formatProblems } from '../src/metadata/module.validator';
import { HandlebarsEnvironment } from '../src/templates/handlebars.environment';
import { TemplateSyntaxException } from '../src/templates/template.exception';
import { describeWithChromium } from './support/chromium';
import { binary, pdfText, squash } from './support/documents';
import { account, createKey, createRecord } from './support/factories';
import { startTestApp, type TestApp } from './support/test-app';

const money = (value: number, lang = 'en', currency = 'SEK') =>
  squash(new Intl.NumberFormat(lang, { style: 'currency', currency }).format(value));
const plain = (value: number, lang = 'en') =>
  new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value);
const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const xmlText = (xml: string) =>
  xml
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** Every cell of the first sheet of an XLSX, by reference (`A1`), as text or number. */
function xlsxCells(xlsx: Buffer): Map<string, string | number> {
  const zip = new PizZip(xlsx);
  const shared = [...(zip.file('xl/sharedStrings.xml')?.asText() ?? '').matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) => xmlText(m[1]));
  const cells = new Map<string, string | number>();
  for (const [, attributes, body] of zip
    .file('xl/worksheets/sheet1.xml')!
    .asText()
    .matchAll(/<c ([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
    const ref = /r="([A-Z]+\d+)"/.exec(attributes)![1];
    const type = /t="(\w+)"/.exec(attributes)?.[1];
    const value = /<v>([\s\S]*?)<\/v>/.exec(body ?? '')?.[1];
    if (type === 's') cells.set(ref, shared[Number(value)]);
    else if (type === 'inlineStr') cells.set(ref, xmlText(/<is>([\s\S]*?)<\/is>/.exec(body ?? '')?.[1] ?? ''));
    else if (type === 'str') cells.set(ref, xmlText(value ?? ''));
    else if (value !== undefined) cells.set(ref, Number(value));
  }
  return cells;
}

const SCRIPT_LINE = '<script>alert("x")</script> & Sons';
const LINES = [
  { description: 'Pine planks 45x95', quantity: 10, price: 25, vat_rate: 25 },
  { description: SCRIPT_LINE, quantity: 2, price: 149.5, vat_rate: 25 },
  { description: 'Delivery to Umeå', quantity: 1, price: 1000, discount: 10, vat_rate: 25 },
];
// What the formulas make of them: line totals, subtotal, 25% VAT, total.
const LINE_TOTALS = [250, 299, 900];
const SUBTOTAL = 1449;
const TAX = 362.25;
const TOTAL = 1811.25;

describe('documents', () => {
  let t: TestApp;
  let invoice: Record<string, any>;
  let customer: Record<string, any>;
  let contact: Record<string, any>;
  beforeAll(async () => {
    t = await startTestApp();
    customer = await account(t, { name: 'Nordic Timber AB', street: 'Storgatan 1', postal_code: '903 26', city: 'Umeå' });
    contact = await createRecord(t, 'contacts', { first_name: 'Anna', last_name: 'Ek', email: 'anna@example.com', account: customer.id });
    invoice = await createRecord(t, 'invoices', {
      subject: 'Timber for the sawmill',
      account: customer.id,
      contact: contact.id,
      currency: 'SEK',
      invoice_date: '2026-03-01',
      due_date: '2026-03-31',
      lines: LINES,
    });
  });
  afterAll(() => t.close());

  const url = (module: string, id: string, template: string, query = '') => `/api/v1/${module}/${id}/documents/${template}${query}`;
  const get = (path: string, auth = t.auth) => t.http.get(path).set('Authorization', auth);
  const getBinary = (path: string) => get(path).buffer(true).parse(binary);

  describe('succeeds', () => {
    it('the invoice data is what the documents print', () => {
      expect(invoice.lines.map((l: { total: number }) => l.total)).toEqual(LINE_TOTALS);
      expect(invoice).toMatchObject({ subtotal: SUBTOTAL, tax: TAX, total: TOTAL });
    });

    it('HTML: number, customer, each line, the totals, with values escaped', async () => {
      const res = await get(url('invoices', invoice.id, 'invoice', '?format=html'));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`inline; filename="invoice-${invoice.number}.html"`);
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      const html = squash(res.text);
      expect(html).toContain(`<title>Invoice ${invoice.number}</title>`);
      expect(html).toContain('Nordic Timber AB');
      expect(html).toContain('Anna Ek');
      expect(html).toContain('Mar 31, 2026');
      expect(html).toContain('Pine planks 45x95');
      expect(html).toContain('Delivery to Umeå');
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons');
      expect(res.text).not.toContain('<script>');
      for (const total of LINE_TOTALS) expect(html).toContain(money(total));
      expect(html).toContain(money(SUBTOTAL));
      expect(html).toContain(`VAT</th><td>${money(TAX)}`);
      expect(html).toContain(`Total</th><td>${money(TOTAL)}`);
    });

    it('HTML in the language asked for (labels from the metadata, texts from the template, formats)', async () => {
      const res = await get(url('invoices', invoice.id, 'invoice', '?lang=sv'));
      expect(res.status).toBe(200);
      const html = squash(res.text);
      expect(html).toMatch(/<html lang=["']sv["']>/);
      expect(html).toContain(`<title>Faktura ${invoice.number}</title>`);
      expect(html).toContain('Förfallodatum');
      expect(html).toContain('Moms');
      expect(html).toContain(`Totalt</th><td>${money(TOTAL, 'sv')}`);
      expect(html).toContain('31 mars 2026');
    });

    it('the quote prints an opportunity, the certificate a contact', async () => {
      const opportunity = await createRecord(t, 'opportunities', {
        name: 'Sawmill <extension>',
        account: customer.id,
        contact: contact.id,
        amount: 250000,
        close_date: '2026-06-30',
      });
      const quote = await get(url('opportunities', opportunity.id, 'quote', '?lang=sv'));
      expect(quote.status).toBe(200);
      expect(squash(quote.text)).toEqual(expect.stringContaining(`Offert`));
      expect(quote.text).toContain(opportunity.number);
      expect(quote.text).toContain('Sawmill &lt;extension&gt;');
      expect(quote.text).toContain('Nordic Timber AB');
      expect(squash(quote.text)).toContain(money(250000, 'sv'));

      const certificate = await get(url('contacts', contact.id, 'certificate'));
      expect(certificate.status).toBe(200);
      expect(squash(certificate.text.replace(/<[^>]+>/g, ' '))).toContain(
        'This certifies that Anna Ek of Nordic Timber AB is registered with us as a participant in good standing.',
      );
    });

    it('a key without read permission on the related module sees only its name', async () => {
      const key = await createKey(t, ['invoices:read']);
      const res = await get(url('invoices', invoice.id, 'invoice'), key);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Nordic Timber AB');
      expect(res.text).not.toContain('Storgatan 1');
      expect(res.text).not.toContain('anna@example.com');
    });

    describeWithChromium('PDF through headless Chromium', () => {
      it('prints the invoice: its text has the number, customer, each line and the total', async () => {
        const res = await getBinary(url('invoices', invoice.id, 'invoice', '?format=pdf'));
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/pdf');
        expect(res.headers['content-disposition']).toBe(`inline; filename="invoice-${invoice.number}.pdf"`);
        const pdf = res.body as Buffer;
        expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        const text = await pdfText(pdf);
        expect(text).toContain(`Invoice number ${invoice.number}`);
        expect(text).toContain('Nordic Timber AB');
        expect(text).toContain('Pine planks 45x95');
        expect(text).toContain('<script>alert("x")</script> & Sons');
        expect(text).toContain('Delivery to Umeå');
        for (const total of LINE_TOTALS) expect(text).toContain(money(total));
        expect(text).toContain(`VAT ${money(TAX)}`);
        expect(text).toContain(`Total ${money(TOTAL)}`);
      });

      it('prints several documents at once on the one browser', async () => {
        const results = await Promise.all(
          ['en', 'sv', 'en', 'sv', 'en', 'sv'].map((lang) => getBinary(url('invoices', invoice.id, 'invoice', `?format=pdf&lang=${lang}`))),
        );
        expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
        expect(await pdfText(results[1].body as Buffer)).toContain(`Totalt ${money(TOTAL, 'sv')}`);
      });
    });

    it('DOCX: word/document.xml has the number, customer, each line and the total', async () => {
      const res = await getBinary(url('invoices', invoice.id, 'invoice', '?format=docx'));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="invoice-${invoice.number}.docx"`);
      const xml = new PizZip(res.body as Buffer).file('word/document.xml')!.asText();
      const text = squash(xml.replace(/<[^>]+>/g, ' '));
      expect(text).toContain(`Invoice ${invoice.number}`);
      expect(text).toContain('Nordic Timber AB');
      for (const line of LINES) expect(text).toContain(xmlEscape(line.description));
      expect(xml).not.toContain('<script>');
      for (const total of LINE_TOTALS) expect(text).toContain(plain(total));
      expect(text).toContain(`Total: ${plain(TOTAL)} SEK`);
    });

    it('XLSX: the cells hold the number, customer, each line and the total', async () => {
      const res = await getBinary(url('invoices', invoice.id, 'invoice', '?format=xlsx'));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="invoice-${invoice.number}.xlsx"`);
      const cells = xlsxCells(res.body as Buffer);
      const values = [...cells.values()];
      expect(values).toContain(`Invoice ${invoice.number}`);
      expect(values).toContain('Nordic Timber AB');
      // One row per line, in order: description, quantity, price, …, line total.
      const rowOf = (ref: string) => Number(/\d+/.exec(ref)![0]);
      const lineRows = LINES.map((line) => rowOf([...cells].find(([, v]) => v === line.description)![0]));
      expect(lineRows).toEqual([lineRows[0], lineRows[0] + 1, lineRows[0] + 2]);
      lineRows.forEach((row, i) => {
        const inRow = [...cells].filter(([ref]) => rowOf(ref) === row).map(([, v]) => v);
        expect(inRow).toEqual(expect.arrayContaining([LINES[i].description, LINES[i].quantity, LINES[i].price, LINE_TOTALS[i]]));
      });
      expect(values).toEqual(expect.arrayContaining([SUBTOTAL, TAX, TOTAL]));
    });
  });

  describe('fails', () => {
    const problem = (res: Response, status: number, type: string) => {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, type: `/problems/${type}` });
    };

    it('an unknown template is a 404 naming the ones there are', async () => {
      const res = await get(url('invoices', invoice.id, 'receipt'));
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        type: '/problems/document_template_not_found',
        title: 'Not Found',
        status: 404,
        detail: 'There is no html document template "receipt" for invoices (html templates for invoices: invoice).',
        instance: `/api/v1/invoices/${invoice.id}/documents/receipt`,
        template: 'receipt',
        format: 'html',
        known: ['invoice'],
      });
    });

    it("another module's template, or a format the template lacks, is a 404", async () => {
      problem(await get(url('contacts', contact.id, 'invoice')), 404, 'document_template_not_found');
      const res = await get(url('contacts', contact.id, 'certificate', '?format=docx'));
      problem(res, 404, 'document_template_not_found');
      expect(res.body.detail).toBe('There is no docx document template "certificate" for contacts (contacts has no docx templates).');
    });

    it('an unknown format, language or parameter is a 400 naming it', async () => {
      const format = await get(url('invoices', invoice.id, 'invoice', '?format=odt'));
      expect(format.status).toBe(400);
      expect(format.body).toMatchObject({
        type: '/problems/invalid_query',
        detail: 'format must be one of html, pdf, docx, xlsx, got "odt".',
        errors: [{ field: 'format', code: 'invalid_value', message: 'format must be one of html, pdf, docx, xlsx, got "odt".' }],
      });
      const lang = await get(url('invoices', invoice.id, 'invoice', '?lang=not_a_language'));
      expect(lang.status).toBe(400);
      expect(lang.body.detail).toBe('lang must be a language tag such as en, sv or sv-SE, got "not_a_language".');
      const param = await get(url('invoices', invoice.id, 'invoice', '?fromat=pdf'));
      expect(param.status).toBe(400);
      expect(param.body.detail).toBe('Unknown query parameter "fromat"; use format and lang.');
    });

    it('an unknown record is a 404, a bad id a 400, an unknown module a 404', async () => {
      problem(await get(url('invoices', '7f1c0e2a-5b7e-4a51-9d7c-2f8e4c1b9a10', 'invoice')), 404, 'record_not_found');
      problem(await get(url('invoices', 'nope', 'invoice')), 400, 'invalid_id');
      problem(await get(url('spaceships', invoice.id, 'invoice')), 404, 'unknown_module');
    });

    it('without read permission on the module: 403', async () => {
      const key = await createKey(t, ['contacts:read']);
      const res = await get(url('invoices', invoice.id, 'invoice'), key);
      problem(res, 403, 'permission_denied');
    });
  });

  describe('without Chromium', () => {
    let bare: TestApp;
    beforeAll(async () => {
      bare = await startTestApp({ chromiumPath: '/nonexistent/chromium' });
    });
    afterAll(() => bare.close());

    it('a PDF is a 503 saying how to enable PDF rendering; HTML still works', async () => {
      const acc = await account(bare);
      const inv = await createRecord(bare, 'invoices', { subject: 'Boards', account: acc.id, lines: LINES.slice(0, 1) });
      const res = await bare.http.get(url('invoices', inv.id, 'invoice', '?format=pdf')).set('Authorization', bare.auth);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        type: '/problems/pdf_unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail:
          'CHROMIUM_PATH is "/nonexistent/chromium", which is not an executable file. ' +
          'PDF rendering needs Chromium: install it (Debian: apt-get install chromium-headless-shell, or chromium) or set CHROMIUM_PATH.',
        instance: `/api/v1/invoices/${inv.id}/documents/invoice`,
      });
      const html = await bare.http.get(url('invoices', inv.id, 'invoice')).set('Authorization', bare.auth);
      expect(html.status).toBe(200);
    });
  });
});

describe(DocumentTemplateStore.name, () => {
  const environment = new HandlebarsEnvironment();
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'documents-'));
    mkdirSync(join(root, 'templates', 'documents'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const store = () => new DocumentTemplateStore(new MetadataRegistry(), environment);
  const write = (name: string, text: string) => writeFileSync(join(root, 'templates', 'documents', name), text);
  const HEADER = '{{!-- document: { "module": "invoices" } --}}\n';
  const withProducts = () => {
    mkdirSync(join(root, 'modules', 'products'), { recursive: true });
    writeFileSync(
      join(root, 'modules', 'products', 'module.json'),
      readFileSync(join(__dirname, '..', 'modules', 'products', 'module.json'), 'utf8'),
    );
  };
  /** The templates of `dir` as the engine reads and validates them at start; a store serving them from a registry. */
  const loadAt = async (dir: string) => {
    const { sources, problems: readProblems } = await readMetadataFiles(dir);
    const set = await validateMetadataSet(sources);
    const registry = new MetadataRegistry();
    const loaded = new DocumentTemplateStore(registry, environment);
    await registry.replace(1, [], [], [], { email: set.emailTemplates, documents: set.documentTemplates });
    return { store: loaded, problems: [...readProblems, ...set.problems] };
  };

  it('compiles a template: an unclosed {{#each}} is a 422 with file, line and column', () => {
    const source = `${HEADER}<table>\n  {{#each lines}}\n    <tr><td>{{description}}</td></tr>\n</table>\n`;
    let error: unknown;
    try {
      store().compile('templates/documents/broken.hbs', source);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateSyntaxException);
    const syntax = error as TemplateSyntaxException;
    expect(syntax.status).toBe(422);
    expect(syntax.location).toEqual({ file: 'templates/documents/broken.hbs', line: 6, column: 1 });
    expect(syntax.detail).toMatch(/^templates\/documents\/broken\.hbs:6:1: parse error: Expecting .*got 'EOF'/);
  });

  it('a mismatched block closes at its line and column', () => {
    expect(() => store().compile('templates/documents/x.hbs', `${HEADER}<p>\n  {{#if a}}{{/each}}</p>`)).toThrow(
      expect.objectContaining({ location: expect.objectContaining({ file: 'templates/documents/x.hbs', line: 3 }) }),
    );
  });

  it('a bad header is a syntax error at its place', () => {
    expect(() => store().compile('templates/documents/x.hbs', '<p>no header</p>')).toThrow(
      expect.objectContaining({ location: { file: 'templates/documents/x.hbs', line: 1, column: 1 } }),
    );
    expect(() => store().compile('templates/documents/x.hbs', '{{!-- document: {\n  "module": "invoices",,\n} --}}')).toThrow(
      expect.objectContaining({ location: { file: 'templates/documents/x.hbs', line: 2, column: 24 } }),
    );
    expect(() => store().compile('templates/documents/x.hbs', '{{!-- document: { "module": "invoices", "colour": 1 } --}}')).toThrow(
      /unknown key "colour"/,
    );
  });

  it('no prototype access and values escaped', () => {
    const template = store().compile(
      'templates/documents/x.hbs',
      `${HEADER}{{constructor.constructor}}|{{#with __proto__}}{{toString}}{{/with}}|{{lookup this "constructor"}}|{{record.note}}`,
    );
    expect(template.html.render({ record: { note: '<b>"hi"</b>' } }).trim()).toBe('|||&lt;b&gt;&quot;hi&quot;&lt;/b&gt;');
  });

  it('validation lists every broken template with line and column; only the valid ones are served', async () => {
    withProducts();
    const header = '{{!-- document: { "module": "products" } --}}\n';
    write('good.hbs', `${header}<p>{{record.number}}</p>`);
    write('bad.hbs', `${header}<p>\n{{#each lines}}\n`);
    write('worse.hbs', `${header}{{evil "x"}}`);
    write('elsewhere.hbs', '{{!-- document: {\n  "module": "gadgets" } --}}\n<p></p>');
    write('orphan.docx', 'PK');
    const { store: loaded, problems } = await loadAt(root);
    expect(formatProblems(problems).split('\n')).toEqual([
      expect.stringMatching(
        /^templates\/documents\/orphan\.docx#: a tag template prints records of the module named by templates\/documents\/orphan\.hbs/,
      ),
      expect.stringMatching(/^templates\/documents\/bad\.hbs:4:1: /),
      'templates/documents/elsewhere.hbs:2:13: document header: there is no module "gadgets" (known: products)',
      expect.stringMatching(/^templates\/documents\/worse\.hbs:2:1: .*evil/),
    ]);
    expect(loaded.names('products', 'html')).toEqual(['good']);
  });

  it('the engine does not start with a broken document template', async () => {
    withProducts();
    write('price-list.hbs', '{{! document: { "module": "products" } }}\n<ul>\n  {{#each lines}}<li>{{name}}</li>\n</ul>\n');
    const start = startTestApp({ rootDir: root });
    await expect(start).rejects.toBeInstanceOf(MetadataBootException);
    await expect(start).rejects.toMatchObject({
      problems: [
        {
          file: 'templates/documents/price-list.hbs',
          pointer: '/source',
          line: 5,
          column: 1,
          message: expect.stringMatching(/^parse error: Expecting .*got 'EOF'/),
        },
      ],
    });
    await expect(start).rejects.toThrow(/templates\/documents\/price-list\.hbs:5:1: parse error/);
  });

  it('loads the shipped templates', async () => {
    const { store: shipped } = await loadAt(join(__dirname, '..'));
    expect(shipped.names('invoices', 'html')).toEqual(['invoice']);
    expect(shipped.names('opportunities', 'pdf')).toEqual(['quote']);
    expect(shipped.names('contacts', 'html')).toEqual(['certificate']);
    expect(shipped.get('invoice')?.binaries.docx).toBeInstanceOf(Buffer);
    expect(shipped.get('invoice')?.binaries.xlsx).toBeInstanceOf(Buffer);
  });
});
