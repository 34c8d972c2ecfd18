import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import PizZip from 'pizzip';
import { invoiceTemplateData, unescapeXml } from '../../test/support/invoice-fixture';
import { buildInvoiceXlsx } from '../../scripts/make-document-templates';
import { renderXlsx } from './xlsx.renderer';

const TEMPLATE_PATH = join(__dirname, '..', '..', 'templates', 'documents', 'invoice.xlsx');
const template = readFileSync(TEMPLATE_PATH);

/** What the document service passes for an invoice: raw numbers, and the same amounts formatted. */
const invoiceData = () =>
  invoiceTemplateData({
    lang: 'sv' as const,
    total: 1250.5,
    lines: [
      { description: 'Widget <b>&"bold"</b>', quantity: 2, price: 100, discount: 0, vat_rate: 25, total: 200 },
      { description: '{constructor}', quantity: 1, price: 300, discount: 10, vat_rate: 25, total: 270 },
      { description: 'Support – Åsa', quantity: 5.5, price: 100, discount: 0, vat_rate: 12, total: 550 },
    ],
    formatted: {
      total: '1 250,50 kr',
      lines: [
        { price: '100,00 kr', total: '200,00 kr' },
        { price: '300,00 kr', total: '270,00 kr' },
        { price: '100,00 kr', total: '550,00 kr' },
      ],
    },
  });

type Cell = { value: string | number | boolean | null; formula?: string };

/** Reads the first sheet back: cell reference → value (shared strings resolved, numbers as numbers). */
function readSheet(xlsx: Buffer): { cells: Map<string, Cell>; xml: string } {
  const zip = new PizZip(xlsx);
  const strings = [
    ...zip
      .file('xl/sharedStrings.xml')!
      .asText()
      .matchAll(/<si>([\s\S]*?)<\/si>/g),
  ].map((si) => [...si[1].matchAll(/<t(?: [^>]*)?>([\s\S]*?)<\/t>/g)].map((t) => unescapeXml(t[1])).join(''));
  const xml = zip.file('xl/worksheets/sheet1.xml')!.asText();
  const cells = new Map<string, Cell>();
  for (const c of xml.matchAll(/<c ([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
    const attrs = Object.fromEntries([...c[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]]));
    const v = /<v>([\s\S]*?)<\/v>/.exec(c[2] ?? '')?.[1];
    const f = /<f>([\s\S]*?)<\/f>/.exec(c[2] ?? '')?.[1];
    let value: Cell['value'] = null;
    if (v !== undefined) {
      if (attrs.t === 's') value = strings[Number(v)];
      else if (attrs.t === 'b') value = v === '1';
      else if (attrs.t === 'str' || attrs.t === 'inlineStr') value = unescapeXml(v);
      else value = Number(v);
    }
    cells.set(attrs.r, f === undefined ? { value } : { value, formula: unescapeXml(f) });
  }
  return { cells, xml };
}

function values(cells: Map<string, Cell>, refs: string[]): Cell['value'][] {
  return refs.map((ref) => cells.get(ref)?.value ?? null);
}

/** The invoice template's package with another sheet: cell reference → text, for templates made up in a test. */
function xlsxWithCells(texts: Record<string, string>): Buffer {
  const zip = new PizZip(template);
  const refs = Object.keys(texts);
  const rows = new Map<number, string[]>();
  refs.forEach((ref, i) => {
    const r = Number(/\d+$/.exec(ref)![0]);
    rows.set(r, [...(rows.get(r) ?? []), `<c r="${ref}" t="s"><v>${i}</v></c>`]);
  });
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const ns = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  zip.file(
    'xl/sharedStrings.xml',
    `<sst xmlns="${ns}" count="${refs.length}" uniqueCount="${refs.length}">${refs.map((ref) => `<si><t>${esc(texts[ref])}</t></si>`).join('')}</sst>`,
  );
  zip.file(
    'xl/worksheets/sheet1.xml',
    `<worksheet xmlns="${ns}"><sheetData>${[...rows].map(([r, cells]) => `<row r="${r}">${cells.join('')}</row>`).join('')}</sheetData></worksheet>`,
  );
  return zip.generate({ type: 'nodebuffer' });
}

describe('renderXlsx — the invoice template', () => {
  let rendered: Buffer;
  let cells: Map<string, Cell>;
  let xml: string;

  beforeAll(async () => {
    rendered = await renderXlsx(template, invoiceData());
    ({ cells, xml } = readSheet(rendered));
  });

  it('renders the invoice number, customer, address and dates', () => {
    expect(values(cells, ['A1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8'])).toEqual([
      'Invoice INV-1001',
      'Q3 services',
      'Acme & Sons <AB>',
      'Storgatan 1',
      '111 22 Stockholm',
      '2024-07-01',
      '2024-07-31',
      'SEK',
    ]);
  });

  it('writes one row per line, amounts as numeric cells', () => {
    expect(values(cells, ['A10', 'B10', 'C10', 'D10', 'E10', 'F10'])).toEqual([
      'Description',
      'Quantity',
      'Price',
      'Discount',
      'VAT %',
      'Total',
    ]);
    const row = (r: number) =>
      values(
        cells,
        ['A', 'B', 'C', 'D', 'E', 'F'].map((c) => `${c}${r}`),
      );
    expect(row(11)).toEqual(['Widget <b>&"bold"</b>', 2, 100, 0, 25, 200]);
    expect(row(12)).toEqual(['{constructor}', 1, 300, 10, 25, 270]);
    expect(row(13)).toEqual(['Support – Åsa', 5.5, 100, 0, 12, 550]);
    expect(xml).toMatch(/<c r="F13" s="2"><v>550<\/v><\/c>/); // a number cell (no t="s"), keeping the amount style
  });

  it('moves the totals below the lines, as numbers', () => {
    expect(values(cells, ['E15', 'F15', 'E16', 'F16', 'E17', 'F17'])).toEqual(['Subtotal', 1000, 'VAT', 250, 'Total', 1250.5]);
    expect(xml).toMatch(/<c r="F17" s="3"><v>1250.5<\/v><\/c>/);
    expect(xml).toContain('<dimension ref="A1:F17"');
  });

  it('XML-escapes the values', () => {
    const strings = new PizZip(rendered).file('xl/sharedStrings.xml')!.asText();
    expect(strings).toMatch(/<t>Widget &lt;b&gt;&amp;(&quot;|")bold(&quot;|")&lt;\/b&gt;<\/t>/);
    expect(strings).toContain('<t>Acme &amp; Sons &lt;AB&gt;</t>');
    expect(strings).not.toContain('<b>');
  });

  it('matches what scripts/make-document-templates.ts builds (regenerate it after editing the script)', () => {
    const built = new PizZip(buildInvoiceXlsx());
    const stored = new PizZip(template);
    expect(Object.keys(stored.files).sort()).toEqual(Object.keys(built.files).sort());
    for (const name of Object.keys(built.files)) expect(stored.file(name)!.asText()).toBe(built.file(name)!.asText());
  });

  it('renders an invoice without lines: the line row stays, empty', async () => {
    const data = invoiceData();
    data.invoice.lines = [];
    const { cells: empty } = readSheet(await renderXlsx(template, data));
    expect(values(empty, ['A11', 'F11', 'F15'])).toEqual([null, null, 1250.5]);
  });
});

describe('renderXlsx — template safety', () => {
  it('gives no access to prototypes: such placeholders render empty', async () => {
    const tpl = xlsxWithCells({
      A1: '${constructor}',
      A2: '[${__proto__}]',
      A3: '[${invoice.constructor.name}]',
      A4: '[${invoice.number.length}]',
      A5: '[${invoice.lines.constructor.name}]',
      A6: '[${toString}]',
      A7: '${table:invoice.lines.constructor}',
      B7: '${table:invoice.lines.description}',
    });
    const { cells } = readSheet(await renderXlsx(tpl, invoiceData()));
    expect(values(cells, ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'])).toEqual(['', '[]', '[]', '[]', '[]', '[]']);
    expect(values(cells, ['A7', 'A8', 'A9', 'B7', 'B8', 'B9'])).toEqual([
      '',
      '',
      '',
      'Widget <b>&"bold"</b>',
      '{constructor}',
      'Support – Åsa',
    ]);
  });

  it('writes values such as "constructor", "__proto__", "$&" and placeholder look-alikes as plain text', async () => {
    const data = invoiceData();
    data.invoice.lines[0].description = 'constructor';
    data.invoice.lines[1].description = '__proto__';
    data.invoice.lines[2].description = '${v0}';
    data.account.city = "$& $' $$";
    const { cells } = readSheet(await renderXlsx(template, data));
    expect(values(cells, ['A11', 'A12', 'A13', 'B5'])).toEqual(['constructor', '__proto__', '${v0}', "111 22 $& $' $$"]);
  });

  it('does not let a value become a formula', async () => {
    const data = invoiceData();
    data.invoice.lines[0].description = '=HYPERLINK("http://example.invalid","x")';
    data.account.name = '=1+1';
    const { cells, xml } = readSheet(await renderXlsx(template, data));
    expect(xml).not.toContain('<f>');
    expect(values(cells, ['A11', 'B3'])).toEqual(['\'=HYPERLINK("http://example.invalid","x")', "'=1+1"]);
  });

  it('rejects a placeholder left open, with every problem listed', async () => {
    const tpl = xlsxWithCells({
      A1: 'Invoice ${invoice.number',
      A2: '${table:invoice.lines.description',
      A3: '${image:account.logo}',
      A4: 'x ${table:invoice.lines.total}',
    });
    const error: Error = await renderXlsx(tpl, invoiceData()).then(
      () => {
        throw new Error('expected a template error');
      },
      (e: Error) => e,
    );
    expect(error.message).toMatch(/^XLSX template has 4 problems:/);
    expect(error.message).toContain('"Invoice ${invoice.number": a placeholder is not closed');
    expect(error.message).toContain('"${table:invoice.lines.description": a placeholder is not closed');
    expect(error.message).toContain('image placeholders are not supported');
    expect(error.message).toContain('a table placeholder must be alone in its cell');
  });

  it('rejects a file that is not an XLSX', async () => {
    await expect(renderXlsx(Buffer.from('not a zip'), invoiceData())).rejects.toThrow(/not a valid \.xlsx/);
  });
});
