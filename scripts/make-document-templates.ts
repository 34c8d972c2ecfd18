/**
 * Builds the invoice document templates — `templates/documents/invoice.docx` (docxtemplater tags) and
 * `templates/documents/invoice.xlsx` (xlsx-template `${…}` placeholders) — from the XML written out below,
 * so the binary templates can be regenerated and reviewed as code. Run it from the project root:
 *
 *   npm run build && node dist/scripts/make-document-templates.js [outDir]
 *
 * or, compiling only this file (dist/ is git-ignored and sits where `pizzip` resolves from node_modules/):
 *
 *   npx tsc scripts/make-document-templates.ts --outDir dist/doc-templates --module commonjs --target es2022 \
 *     --esModuleInterop --skipLibCheck --types node && node dist/doc-templates/make-document-templates.js
 *
 * outDir defaults to `templates/documents` below the current directory. The output is byte-for-byte
 * reproducible: every zip entry carries the same fixed date.
 *
 * The data the templates read is what the document service passes (see src/documents/docx.renderer.ts):
 * `invoice` (number, subject, invoice_date, due_date, currency, subtotal, tax, total, lines[]), `account`
 * (name, street, postal_code, city) and `formatted` (subtotal, tax, total, lines[] of { price, total }).
 * The DOCX shows the pre-formatted strings; inside its line loop `{formatted.price}` / `{formatted.total}`
 * read the line's own `formatted` entry, which renderDocx attaches to each line from `formatted.lines[i]`.
 * The XLSX puts the raw numbers into numeric cells, one row per line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import PizZip from 'pizzip';

const FIXED_DATE = new Date('2024-01-01T00:00:00Z');
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function zipOf(parts: Record<string, string>): Buffer {
  const zip = new PizZip();
  for (const [name, xml] of Object.entries(parts)) zip.file(name, XML_DECL + xml, { date: FIXED_DATE, createFolders: false });
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

// ---------------------------------------------------------------------------------------------------------------------
// DOCX
// ---------------------------------------------------------------------------------------------------------------------

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const R_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PKG_RELS_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const OFFICE_DOC_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';
const STYLES_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles';

interface RunStyle {
  bold?: boolean;
}

/** One run; each tag sits whole inside one `w:t` so docxtemplater sees it as written. */
function run(text: string, style: RunStyle = {}): string {
  const rPr = style.bold ? '<w:rPr><w:b/></w:rPr>' : '';
  return `<w:r>${rPr}<w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
}

function paragraph(runs: string | string[], opts: { style?: string; align?: 'left' | 'right' } = {}): string {
  const pPr = [opts.style ? `<w:pStyle w:val="${opts.style}"/>` : '', opts.align === 'right' ? '<w:jc w:val="right"/>' : ''].join('');
  return `<w:p>${pPr ? `<w:pPr>${pPr}</w:pPr>` : ''}${Array.isArray(runs) ? runs.join('') : runs}</w:p>`;
}

const COLUMN_WIDTHS = [4500, 1500, 1700, 1700]; // twentieths of a point; 9400 fits an A4 page with 2 cm margins

function cell(width: number, content: string, align: 'left' | 'right' = 'left'): string {
  return `<w:tc><w:tcPr><w:tcW w:w="${width}" w:type="dxa"/></w:tcPr>${paragraph(content, { align })}</w:tc>`;
}

function row(cells: string[], header = false): string {
  const trPr = header ? '<w:trPr><w:tblHeader/></w:trPr>' : '';
  return `<w:tr>${trPr}${cells.join('')}</w:tr>`;
}

function linesTable(): string {
  const border = (side: string) => `<w:${side} w:val="single" w:sz="4" w:space="0" w:color="999999"/>`;
  const tblPr =
    '<w:tblPr><w:tblW w:w="9400" w:type="dxa"/>' +
    `<w:tblBorders>${['top', 'left', 'bottom', 'right', 'insideH', 'insideV'].map(border).join('')}</w:tblBorders>` +
    '<w:tblLayout w:type="fixed"/></w:tblPr>';
  const grid = `<w:tblGrid>${COLUMN_WIDTHS.map((w) => `<w:gridCol w:w="${w}"/>`).join('')}</w:tblGrid>`;
  const [d, q, p, t] = COLUMN_WIDTHS;
  const header = row(
    [
      cell(d, run('Description', { bold: true })),
      cell(q, run('Quantity', { bold: true }), 'right'),
      cell(p, run('Price', { bold: true }), 'right'),
      cell(t, run('Total', { bold: true }), 'right'),
    ],
    true,
  );
  // docxtemplater repeats the whole table row when a loop opens in its first cell and closes in its last
  // (paragraphLoop). `formatted` here is the line's own formatted entry (price, total as strings).
  const loopRow = row([
    cell(d, run('{#invoice.lines}{description}')),
    cell(q, run('{quantity}'), 'right'),
    cell(p, run('{formatted.price}'), 'right'),
    cell(t, run('{formatted.total}{/invoice.lines}'), 'right'),
  ]);
  return `<w:tbl>${tblPr}${grid}${header}${loopRow}</w:tbl>`;
}

function invoiceDocumentXml(): string {
  const body = [
    paragraph(run('Invoice {invoice.number}'), { style: 'Title' }),
    paragraph(run('{invoice.subject}')),
    paragraph(''),
    paragraph(run('Customer', { bold: true })),
    paragraph(run('{account.name}')),
    paragraph(run('{account.street}')),
    paragraph(run('{account.postal_code} {account.city}')),
    paragraph(''),
    paragraph([run('Invoice date: ', { bold: true }), run('{invoice.invoice_date}')]),
    paragraph([run('Due date: ', { bold: true }), run('{invoice.due_date}')]),
    paragraph([run('Currency: ', { bold: true }), run('{invoice.currency}')]),
    paragraph(''),
    linesTable(),
    paragraph(''),
    paragraph([run('Subtotal: ', { bold: true }), run('{formatted.subtotal}')], { align: 'right' }),
    paragraph([run('VAT: ', { bold: true }), run('{formatted.tax}')], { align: 'right' }),
    paragraph([run('Total: ', { bold: true }), run('{formatted.total} {invoice.currency}', { bold: true })], { align: 'right' }),
    '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>' +
      '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr>',
  ].join('');
  return `<w:document xmlns:w="${W_NS}" xmlns:r="${R_NS}"><w:body>${body}</w:body></w:document>`;
}

function docxStylesXml(): string {
  return (
    `<w:styles xmlns:w="${W_NS}">` +
    '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:cs="Calibri"/>' +
    '<w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:rPrDefault>' +
    '<w:pPrDefault><w:pPr><w:spacing w:after="60"/></w:pPr></w:pPrDefault></w:docDefaults>' +
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>' +
    '<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/>' +
    '<w:qFormat/><w:pPr><w:spacing w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="40"/><w:szCs w:val="40"/></w:rPr></w:style>' +
    '</w:styles>'
  );
}

export function buildInvoiceDocx(): Buffer {
  return zipOf({
    '[Content_Types].xml':
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
      '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>' +
      '</Types>',
    '_rels/.rels': `<Relationships xmlns="${PKG_RELS_NS}"><Relationship Id="rId1" Type="${OFFICE_DOC_REL}" Target="word/document.xml"/></Relationships>`,
    'word/document.xml': invoiceDocumentXml(),
    'word/_rels/document.xml.rels': `<Relationships xmlns="${PKG_RELS_NS}"><Relationship Id="rId1" Type="${STYLES_REL}" Target="styles.xml"/></Relationships>`,
    'word/styles.xml': docxStylesXml(),
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------------------------------------------------

const SSML_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const WORKSHEET_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet';
const SHARED_STRINGS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings';

/** cellXfs indexes in xlsxStylesXml(). */
const Xf = { Plain: 0, Bold: 1, Amount: 2, BoldAmount: 3, Title: 4, Wrap: 5 } as const;
type Xf = (typeof Xf)[keyof typeof Xf];

/** A template cell: its text goes into the shared strings (xlsx-template only substitutes shared strings). */
interface SheetCell {
  ref: string;
  text: string;
  style?: Xf;
}

/**
 * The sheet, row by row. Placeholders alone in their cell keep the value's type (numbers stay numeric cells);
 * `${table:invoice.lines.x}` repeats its row once per line and pushes the rows below it down.
 */
const INVOICE_SHEET: SheetCell[][] = [
  [{ ref: 'A1', text: 'Invoice ${invoice.number}', style: Xf.Title }],
  [
    { ref: 'A2', text: 'Subject', style: Xf.Bold },
    { ref: 'B2', text: '${invoice.subject}' },
  ],
  [
    { ref: 'A3', text: 'Customer', style: Xf.Bold },
    { ref: 'B3', text: '${account.name}' },
  ],
  [
    { ref: 'A4', text: 'Address', style: Xf.Bold },
    { ref: 'B4', text: '${account.street}' },
  ],
  [{ ref: 'B5', text: '${account.postal_code} ${account.city}' }],
  [
    { ref: 'A6', text: 'Invoice date', style: Xf.Bold },
    { ref: 'B6', text: '${invoice.invoice_date}' },
  ],
  [
    { ref: 'A7', text: 'Due date', style: Xf.Bold },
    { ref: 'B7', text: '${invoice.due_date}' },
  ],
  [
    { ref: 'A8', text: 'Currency', style: Xf.Bold },
    { ref: 'B8', text: '${invoice.currency}' },
  ],
  [
    { ref: 'A10', text: 'Description', style: Xf.Bold },
    { ref: 'B10', text: 'Quantity', style: Xf.Bold },
    { ref: 'C10', text: 'Price', style: Xf.Bold },
    { ref: 'D10', text: 'Discount', style: Xf.Bold },
    { ref: 'E10', text: 'VAT %', style: Xf.Bold },
    { ref: 'F10', text: 'Total', style: Xf.Bold },
  ],
  [
    { ref: 'A11', text: '${table:invoice.lines.description}', style: Xf.Wrap },
    { ref: 'B11', text: '${table:invoice.lines.quantity}' },
    { ref: 'C11', text: '${table:invoice.lines.price}', style: Xf.Amount },
    { ref: 'D11', text: '${table:invoice.lines.discount}', style: Xf.Amount },
    { ref: 'E11', text: '${table:invoice.lines.vat_rate}' },
    { ref: 'F11', text: '${table:invoice.lines.total}', style: Xf.Amount },
  ],
  [
    { ref: 'E13', text: 'Subtotal', style: Xf.Bold },
    { ref: 'F13', text: '${invoice.subtotal}', style: Xf.Amount },
  ],
  [
    { ref: 'E14', text: 'VAT', style: Xf.Bold },
    { ref: 'F14', text: '${invoice.tax}', style: Xf.Amount },
  ],
  [
    { ref: 'E15', text: 'Total', style: Xf.Bold },
    { ref: 'F15', text: '${invoice.total}', style: Xf.BoldAmount },
  ],
];

function rowNumber(ref: string): number {
  return Number(/\d+$/.exec(ref)![0]);
}

function xlsxSheetParts(): { sheet: string; sharedStrings: string } {
  const strings: string[] = [];
  const indexOf = (text: string): number => {
    const found = strings.indexOf(text);
    return found >= 0 ? found : strings.push(text) - 1;
  };
  const rows = INVOICE_SHEET.map((cells) => {
    const r = rowNumber(cells[0].ref);
    const cellXml = cells.map((c) => `<c r="${c.ref}"${c.style ? ` s="${c.style}"` : ''} t="s"><v>${indexOf(c.text)}</v></c>`).join('');
    return `<row r="${r}">${cellXml}</row>`;
  }).join('');
  const lastRow = rowNumber(INVOICE_SHEET[INVOICE_SHEET.length - 1][0].ref);
  const cols = [32, 10, 12, 12, 8, 14].map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join('');
  const sheet =
    `<worksheet xmlns="${SSML_NS}" xmlns:r="${R_NS}"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:F${lastRow}"/>` +
    '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>' +
    `<cols>${cols}</cols><sheetData>${rows}</sheetData>` +
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' +
    '<pageSetup paperSize="9" orientation="portrait" fitToWidth="1" fitToHeight="0"/></worksheet>'; // A4, one page wide
  const si = strings.map((s) => `<si><t xml:space="preserve">${escapeXml(s)}</t></si>`).join('');
  const sharedStrings = `<sst xmlns="${SSML_NS}" count="${strings.length}" uniqueCount="${strings.length}">${si}</sst>`;
  return { sheet, sharedStrings };
}

function xlsxStylesXml(): string {
  // numFmtId 4 is the built-in "#,##0.00".
  return (
    `<styleSheet xmlns="${SSML_NS}">` +
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
    '<font><b/><sz val="16"/><name val="Calibri"/><family val="2"/></font></fonts>' +
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
    '<cellXfs count="6">' +
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
    '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' +
    '<xf numFmtId="4" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>' +
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>' +
    '</cellXfs>' +
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
    '</styleSheet>'
  );
}

export function buildInvoiceXlsx(): Buffer {
  const { sheet, sharedStrings } = xlsxSheetParts();
  return zipOf({
    '[Content_Types].xml':
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
      '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>' +
      '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
      '</Types>',
    '_rels/.rels': `<Relationships xmlns="${PKG_RELS_NS}"><Relationship Id="rId1" Type="${OFFICE_DOC_REL}" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml':
      `<workbook xmlns="${SSML_NS}" xmlns:r="${R_NS}"><bookViews><workbookView/></bookViews>` +
      '<sheets><sheet name="Invoice" sheetId="1" r:id="rId1"/></sheets></workbook>',
    'xl/_rels/workbook.xml.rels':
      `<Relationships xmlns="${PKG_RELS_NS}">` +
      `<Relationship Id="rId1" Type="${WORKSHEET_REL}" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="${STYLES_REL}" Target="styles.xml"/>` +
      `<Relationship Id="rId3" Type="${SHARED_STRINGS_REL}" Target="sharedStrings.xml"/>` +
      '</Relationships>',
    'xl/worksheets/sheet1.xml': sheet,
    'xl/sharedStrings.xml': sharedStrings,
    'xl/styles.xml': xlsxStylesXml(),
  });
}

function main(argv: string[]): void {
  const outDir = resolve(argv[0] ?? join(process.cwd(), 'templates', 'documents'));
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of [
    ['invoice.docx', buildInvoiceDocx()],
    ['invoice.xlsx', buildInvoiceXlsx()],
  ] as const) {
    writeFileSync(join(outDir, name), bytes);
    console.log(`wrote ${join(outDir, name)} (${bytes.length} bytes)`);
  }
}

if (require.main === module) main(process.argv.slice(2));
