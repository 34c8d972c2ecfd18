/**
 * Renders an XLSX template with the same data as {@link renderDocx} (see docx.renderer.ts for its shape).
 *
 * Library: xlsx-template (MIT) — docxtemplater's own XLSX module is commercial. Its placeholders, in cell text:
 *   `${invoice.number}`                 a value; alone in its cell a number stays a numeric cell
 *   `Invoice ${invoice.number}`         text around placeholders makes a text cell
 *   `${table:invoice.lines.quantity}`   one row per line (the row is repeated, rows below move down)
 *
 * What this file adds around the library, and why it is hand-written:
 * - Prototype-safe lookups. xlsx-template resolves paths with plain `obj[name]` (so `${invoice.constructor.name}`
 *   would print "Object"). Before substituting, every placeholder in the shared strings is resolved here with
 *   {@link readOwnPath} (own properties and array indexes only) and rewritten to a flat synthetic name
 *   (`${v0}`, `${table:t0.k0}`) in a null-prototype substitutions object, so the library never walks the data.
 * - Nested lists. The library only loops over a top-level array (`${table:lines.x}`); resolving here lets the
 *   template loop over `invoice.lines` as the data has it. The first array on the path is the loop.
 * - Text cells with several placeholders are composed here in one pass (the library's `String.replace` would
 *   interpret `$&`/`$'` in values), and the shared-string lookup gets a null prototype (the library's `{}`
 *   maps a value "constructor" to Object and writes a broken cell).
 * - Formula injection: the library turns any string starting with "=" into a formula; such values get a leading
 *   apostrophe, as OWASP advises for spreadsheet exports.
 * - Template errors (a placeholder left open like `${invoice.number`, a table placeholder sharing its cell,
 *   image placeholders — which would read files from disk) throw one Error listing every problem.
 * Values that are objects, lists, null or missing render as an empty cell. Only placeholders in cell text are
 * supported (not in hyperlinks or named-table headers).
 */
import XlsxTemplate from 'xlsx-template';
import { parsePath, readOwnPath, toTemplateData } from './docx.renderer';

type CellValue = string | number | boolean;
type Row = Record<string, CellValue>;
/** One list looped over by `${table:…}` placeholders: its synthetic name, one row object per item, field → key. */
type Table = { name: string; rows: Row[]; keys: Map<string, string> };

/** xlsx-template's placeholder syntax (its extractPlaceholders): `${type:name.key:subType}`, type and subType optional. */
const PLACEHOLDER = /\${(?:([^{}:]+?):)?([^{}:]+?)(?:\.([^{}:]+?))?(?::([^{}:]+?))??}/g;

/** The parts of xlsx-template this file uses that its typings leave out or mark readonly. */
interface Workbook {
  sharedStrings: string[];
  sharedStringsLookup: Record<string, number>;
  substituteAll(substitutions: object): void;
  generate(options: { type: 'nodebuffer'; compression: 'DEFLATE' }): Buffer;
}

interface Placeholder {
  text: string;
  type: string;
  path: string;
  subType?: string;
}

function placeholdersIn(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    text: m[0],
    type: m[1] ?? 'normal',
    path: m[3] === undefined ? m[2] : `${m[2]}.${m[3]}`,
    subType: m[4],
  }));
}

function guardFormula(text: string): string {
  return text.startsWith('=') ? `'${text}` : text;
}

function toCellValue(value: unknown): CellValue {
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return guardFormula(value);
  return '';
}

function toText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

/**
 * Resolves every placeholder of the workbook's shared strings against `view`, rewrites each placeholder string
 * to a synthetic flat one and returns the substitutions for those. Throws with every template problem found.
 */
function bindPlaceholders(workbook: Workbook, view: object): Record<string, unknown> {
  const substitutions: Record<string, unknown> = Object.create(null);
  const tables = new Map<string, Table>();
  const problems: string[] = [];
  let scalars = 0;
  const strings = workbook.sharedStrings;

  strings.forEach((text, index) => {
    if (typeof text !== 'string' || !text.includes('${')) return;
    const found = placeholdersIn(text);
    if (text.replace(PLACEHOLDER, '').includes('${')) {
      problems.push(`"${text}": a placeholder is not closed or not well formed (expected \${path} or \${table:list.field})`);
      return;
    }
    const full = found.length === 1 && found[0].text === text;
    const values: unknown[] = [];
    for (const p of found) {
      const path = parsePath(p.path);
      if (p.type !== 'normal' && p.type !== 'table') {
        problems.push(`"${text}": "${p.text}" — ${p.type} placeholders are not supported`);
      } else if (p.subType !== undefined) {
        problems.push(`"${text}": "${p.text}" — :${p.subType} placeholders are not supported`);
      } else if (path === undefined) {
        problems.push(`"${text}": "${p.text}" is not a data path`);
      } else if (p.type === 'table' && !full) {
        problems.push(`"${text}": a table placeholder must be alone in its cell`);
      } else if (p.type === 'table') {
        const bound = bindTable(path, view, tables);
        if (bound !== undefined) {
          strings[index] = bound;
          return;
        }
        values.push(undefined); // no list on the path (missing in the data): an empty cell, as for any missing value
      } else {
        values.push(readOwnPath(view, path));
      }
    }
    if (values.length !== found.length) return;
    const name = `v${scalars++}`;
    let i = 0;
    substitutions[name] = full ? toCellValue(values[0]) : guardFormula(text.replace(PLACEHOLDER, () => toText(values[i++])));
    strings[index] = `\${${name}}`;
  });

  if (problems.length > 0) {
    throw new Error(
      `XLSX template has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  for (const table of tables.values()) substitutions[table.name] = table.rows;
  // The library's lookup is a plain {}: a value "constructor" or "__proto__" would hit Object.prototype.
  const lookup: Record<string, number> = Object.create(null);
  strings.forEach((s, i) => (lookup[s] ??= i));
  workbook.sharedStringsLookup = lookup;
  return substitutions;
}

/** `${table:invoice.lines.price}`: the first array on the path is the list, the rest is read from each item. */
function bindTable(path: string[], view: object, tables: Map<string, Table>): string | undefined {
  for (let split = 1; split < path.length; split++) {
    const list = readOwnPath(view, path.slice(0, split));
    if (!Array.isArray(list)) continue;
    const listKey = path.slice(0, split).join('.');
    let table = tables.get(listKey);
    if (!table) {
      table = { name: `t${tables.size}`, rows: list.map(() => Object.create(null) as Row), keys: new Map() };
      tables.set(listKey, table);
    }
    const itemPath = path.slice(split);
    const itemKey = itemPath.join('.');
    let key = table.keys.get(itemKey);
    if (key === undefined) {
      key = `k${table.keys.size}`;
      table.keys.set(itemKey, key);
      list.forEach((item, i) => (table.rows[i][key!] = toCellValue(readOwnPath(item, itemPath))));
    }
    return `\${table:${table.name}.${key}}`;
  }
  return undefined;
}

export async function renderXlsx(template: Buffer, data: object): Promise<Buffer> {
  let workbook: Workbook;
  try {
    workbook = new XlsxTemplate(template) as unknown as Workbook;
  } catch (error) {
    throw new Error(`XLSX template is not a valid .xlsx file: ${(error as Error).message}`);
  }
  const substitutions = bindPlaceholders(workbook, toTemplateData(data));
  workbook.substituteAll(substitutions);
  return workbook.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}
