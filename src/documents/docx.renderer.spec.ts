import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import PizZip from 'pizzip';
import { invoiceTemplateData, unescapeXml } from '../../test/support/invoice-fixture';
import { buildInvoiceDocx } from '../../scripts/make-document-templates';
import { parsePath, readOwnPath, renderDocx, toPlainData } from './docx.renderer';

const TEMPLATE_PATH = join(__dirname, '..', '..', 'templates', 'documents', 'invoice.docx');
const template = readFileSync(TEMPLATE_PATH);

/** What the document service passes for an invoice: raw numbers, and the same amounts formatted. */
const invoiceData = () =>
  invoiceTemplateData({
    lang: 'en' as const,
    total: 1250,
    lines: [
      { description: 'Widget <b>&"bold"</b>', quantity: 2, price: 100, discount: 0, vat_rate: 25, total: 200 },
      { description: '{constructor}', quantity: 1, price: 300, discount: 0, vat_rate: 25, total: 300 },
      { description: 'Support – Åsa\nsecond line', quantity: 5, price: 100, discount: 0, vat_rate: 25, total: 500 },
    ],
    formatted: {
      total: '1 250,00 kr',
      lines: [
        { price: '100,00 kr', total: '200,00 kr' },
        { price: '300,00 kr', total: '300,00 kr' },
        { price: '100,00 kr', total: '500,00 kr' },
      ],
    },
  });

function documentXml(docx: Buffer): string {
  return new PizZip(docx).file('word/document.xml')!.asText();
}

/** The text of each paragraph (w:br as "\n"), in document order. */
function paragraphs(xml: string): string[] {
  return [...xml.matchAll(/<w:p[ >][\s\S]*?<\/w:p>/g)].map((p) =>
    [...p[0].matchAll(/<w:t(?: [^>]*)?>([\s\S]*?)<\/w:t>|<w:br\/>/g)].map((m) => (m[1] === undefined ? '\n' : unescapeXml(m[1]))).join(''),
  );
}

/** The invoice template's package with another body: for templates made up in a test. */
function docxWithBody(...paragraphTexts: string[]): Buffer {
  const zip = new PizZip(template);
  const body = paragraphTexts
    .map((t) => `<w:p><w:r><w:t xml:space="preserve">${t.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</w:t></w:r></w:p>`)
    .join('');
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generate({ type: 'nodebuffer' });
}

describe('renderDocx — the invoice template', () => {
  let xml: string;
  let texts: string[];

  beforeAll(async () => {
    xml = documentXml(await renderDocx(template, invoiceData()));
    texts = paragraphs(xml);
  });

  it('renders the invoice number, subject, customer, address and dates', () => {
    expect(texts).toContain('Invoice INV-1001');
    expect(texts).toContain('Q3 services');
    expect(texts).toContain('Acme & Sons <AB>');
    expect(texts).toContain('Storgatan 1');
    expect(texts).toContain('111 22 Stockholm');
    expect(texts).toContain('Invoice date: 2024-07-01');
    expect(texts).toContain('Due date: 2024-07-31');
  });

  it('XML-escapes the values', () => {
    expect(xml).toContain('Acme &amp; Sons &lt;AB&gt;');
    expect(xml).toMatch(/Widget &lt;b&gt;&amp;(&quot;|")bold(&quot;|")&lt;\/b&gt;/);
    expect(xml).not.toContain('<b>');
    expect(xml).not.toContain('Sons <AB>');
  });

  it('repeats the table row once per line, with the formatted price and total of that line', () => {
    const rows = [...xml.matchAll(/<w:tr>[\s\S]*?<\/w:tr>/g)].map((r) => paragraphs(r[0]));
    expect(rows).toEqual([
      ['Description', 'Quantity', 'Price', 'Total'],
      ['Widget <b>&"bold"</b>', '2', '100,00 kr', '200,00 kr'],
      ['{constructor}', '1', '300,00 kr', '300,00 kr'],
      ['Support – Åsa\nsecond line', '5', '100,00 kr', '500,00 kr'],
    ]);
    expect(xml).toContain('second line'); // the "\n" became a line break (linebreaks: true)
    expect(xml).toMatch(/Åsa<\/w:t><\/w:r><w:r>(<w:rPr>.*?<\/w:rPr>)?<w:br\/>/);
  });

  it('renders subtotal, VAT and total formatted, and leaves no tag behind', () => {
    expect(texts).toContain('Subtotal: 1 000,00 kr');
    expect(texts).toContain('VAT: 250,00 kr');
    expect(texts).toContain('Total: 1 250,00 kr SEK');
    expect(xml).not.toMatch(/\{[#/]?(invoice|account|formatted|description|quantity)/);
  });

  it('treats a value that looks like a tag as text', () => {
    expect(xml).toContain('{constructor}');
  });

  it('renders missing values as empty, and a line without a formatted entry empty rather than the invoice total', async () => {
    const data = invoiceData();
    data.formatted.lines = data.formatted.lines.slice(0, 1);
    data.account = { name: 'Solo' } as never;
    const rendered = documentXml(await renderDocx(template, data));
    const rows = [...rendered.matchAll(/<w:tr>[\s\S]*?<\/w:tr>/g)].map((r) => paragraphs(r[0]));
    expect(rows[2]).toEqual(['{constructor}', '1', '', '']);
    expect(paragraphs(rendered)).toContain(' '); // "{account.postal_code} {account.city}"
    expect(rendered).not.toContain('undefined');
  });

  it('matches what scripts/make-document-templates.ts builds (regenerate it after editing the script)', () => {
    const built = new PizZip(buildInvoiceDocx());
    const stored = new PizZip(template);
    expect(Object.keys(stored.files).sort()).toEqual(Object.keys(built.files).sort());
    for (const name of Object.keys(built.files)) expect(stored.file(name)!.asText()).toBe(built.file(name)!.asText());
  });
});

describe('renderDocx — template safety', () => {
  it('gives no access to prototypes: such tags render empty', async () => {
    const tpl = docxWithBody(
      '[{constructor}]',
      '[{__proto__}]',
      '[{invoice.constructor.name}]',
      '[{invoice.__proto__.constructor}]',
      '[{invoice.number.length}]',
      '[{toString}]',
      '[{invoice.lines.constructor}]',
      '[{account.constructor}]',
      '[{#invoice.lines}{constructor.name}{/invoice.lines}]',
      '[{invoice.lines[1].quantity}|{invoice.lines.2.quantity}|{invoice.lines.3.quantity}]',
    );
    const data = { ...invoiceData(), account: JSON.parse('{"name":"x","constructor":"own","__proto__":{"polluted":1}}') };
    const texts = paragraphs(documentXml(await renderDocx(tpl, data)));
    expect(texts).toEqual(['[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[]', '[1|5|]']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not print objects or lists through a plain tag', async () => {
    const texts = paragraphs(documentXml(await renderDocx(docxWithBody('[{invoice}]', '[{invoice.lines}]'), invoiceData())));
    expect(texts).toEqual(['[]', '[]']);
  });

  it('rejects an unclosed loop with a clear error', async () => {
    const tpl = docxWithBody('{#invoice.lines}{description}');
    await expect(renderDocx(tpl, invoiceData())).rejects.toThrow(/DOCX template has 1 problem:\n {2}- .*"invoice\.lines".*unclosed/);
  });

  it('lists every tag problem in one error', async () => {
    const tpl = docxWithBody('{a + b}', '{/account}', '{#invoice.lines}{description}');
    const error: Error = await renderDocx(tpl, invoiceData()).then(
      () => {
        throw new Error('expected a template error');
      },
      (e: Error) => e,
    );
    expect(error.message).toMatch(/^DOCX template has 3 problems:/);
    expect(error.message).toContain('The tag "a + b" is invalid: it is not a data path');
    expect(error.message).toMatch(/"invoice\.lines".*unclosed/);
    expect(error.message).toMatch(/account.*unopened/);
  });

  it('rejects a file that is not a DOCX', async () => {
    await expect(renderDocx(Buffer.from('not a zip'), invoiceData())).rejects.toThrow(/not a valid \.docx/);
  });
});

describe('helpers', () => {
  it('parsePath splits dotted and indexed paths, and refuses anything else', () => {
    expect(parsePath('invoice.lines[0].description')).toEqual(['invoice', 'lines', '0', 'description']);
    expect(parsePath(' invoice.number ')).toEqual(['invoice', 'number']);
    expect(parsePath('.')).toEqual([]);
    expect(parsePath('a + b')).toBeUndefined();
    expect(parsePath('a..b')).toBeUndefined();
    expect(parsePath('fn()')).toEqual(['fn()']); // a name like any other: resolves to nothing
  });

  it('readOwnPath follows own properties and indexes only', () => {
    const data = toPlainData({ a: { b: [10, 20] }, d: new Date('2024-01-02T03:04:05Z') });
    expect(readOwnPath(data, ['a', 'b', '1'])).toBe(20);
    expect(readOwnPath(data, ['d'])).toBe('2024-01-02T03:04:05.000Z');
    expect(readOwnPath(data, ['a', 'b', 'length'])).toBeUndefined();
    expect(readOwnPath(data, ['a', 'hasOwnProperty'])).toBeUndefined();
    expect(readOwnPath(data, ['constructor'])).toBeUndefined();
  });

  it('toPlainData cuts data to JSON and drops characters XML cannot carry', () => {
    expect(toPlainData({ s: 'a\u0000b\u0007c\uD800d', f: () => 1, u: undefined })).toEqual({ s: 'abcd' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toPlainData(cyclic)).toThrow(/not plain JSON/);
  });
});
