/**
 * Renders a DOCX tag template (docxtemplater: `{invoice.number}`, `{#invoice.lines}…{/invoice.lines}`) with
 * the document data. The data the document service passes (and the bundled templates read):
 *
 *   { invoice: { number, subject, invoice_date, due_date, currency, subtotal, tax, total,
 *                lines: [{ description, quantity, price, discount, vat_rate, total }] },
 *     account: { name, street, postal_code, city },
 *     record: <the same as invoice>,
 *     lang: 'en' | 'sv',
 *     formatted: { subtotal, tax, total, lines: [{ price, total }] } }
 *
 * Before rendering, the data is cut to plain JSON (dates become ISO strings; functions, class instances'
 * prototypes and undefined go) and each line of `invoice.lines` / `record.lines` gets its own `formatted`
 * (`formatted.lines[i]`, or `{}`), so inside the line loop `{formatted.price}` is the line's formatted price.
 * A line that already has its own `formatted` keeps it. Extra keys (`lines`, `related`, `today`, …) pass through.
 *
 * Template safety: tags are dotted paths (`a.b`, `a[0].b`, `.` for the current loop item) resolved by
 * {@link readOwnPath} through own properties of plain objects and array indexes only — never a prototype
 * (`{constructor}`, `{__proto__}`, `{invoice.number.length}`, `{toString}` all render ''). Anything that is not a
 * path (`{a + b}`, `{fn()}`) is a template error. Missing values render '' (nullGetter).
 */
import Docxtemplater from 'docxtemplater';
import PizZip from 'pizzip';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const INDEX = /^(?:0|[1-9]\d*)$/;

/** XML 1.0 cannot carry these; lone surrogates would be written as invalid UTF-8. */
const INVALID_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function isPlainObject(value: unknown): value is JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The data as plain JSON: what JSON.stringify keeps (Dates → ISO strings, toJSON honoured, functions and
 * undefined dropped), with characters XML cannot carry removed from every string. Throws on cycles / BigInt.
 */
export function toPlainData(data: unknown): JsonObject {
  let text: string | undefined;
  try {
    text = JSON.stringify(data ?? {});
  } catch (error) {
    throw new Error(`document data is not plain JSON: ${(error as Error).message}`);
  }
  const parsed: unknown =
    text === undefined
      ? {}
      : JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' ? value.replace(INVALID_XML_CHARS, '') : value));
  if (!isPlainObject(parsed)) throw new Error('document data must be an object');
  return parsed;
}

/**
 * Splits a tag into path segments: `invoice.lines[0].description` → ['invoice', 'lines', '0', 'description'];
 * `.` (or '') → [] (the scope itself). Returns undefined for anything that is not such a path.
 */
export function parsePath(tag: string): string[] | undefined {
  const text = tag.trim();
  if (text === '' || text === '.') return [];
  const segments: string[] = [];
  const re = /(?:^|\.)([^.[\]\s]+)|\[(\d+)\]/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while (end < text.length && (match = re.exec(text)) !== null) {
    segments.push(match[1] ?? match[2]);
    end = re.lastIndex;
  }
  return end === text.length ? segments : undefined;
}

/**
 * Follows `path` from `root` through own properties of plain objects and through array indexes — nothing
 * else: no prototype member, no property of a string/number, no `__proto__` / `constructor` / `prototype`
 * even where the data itself has such a key. Undefined when the path does not lead anywhere.
 */
export function readOwnPath(root: unknown, path: readonly string[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (FORBIDDEN_SEGMENTS.has(segment)) return undefined;
    if (Array.isArray(current)) {
      if (!INDEX.test(segment) || Number(segment) >= current.length) return undefined;
      current = current[Number(segment)];
    } else if (isPlainObject(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/** Gives each line of `invoice.lines` and `record.lines` its own `formatted` entry from `formatted.lines[i]`. */
export function attachFormattedLines(data: JsonObject): JsonObject {
  const formattedLines = readOwnPath(data, ['formatted', 'lines']);
  for (const owner of ['invoice', 'record']) {
    const lines = readOwnPath(data, [owner, 'lines']);
    if (!Array.isArray(lines)) continue;
    lines.forEach((line, i) => {
      if (!isPlainObject(line) || Object.hasOwn(line, 'formatted')) return;
      const formatted = Array.isArray(formattedLines) ? formattedLines[i] : undefined;
      line.formatted = isPlainObject(formatted) ? formatted : {};
    });
  }
  return data;
}

/** The data a template sees: plain JSON with per-line formatted values. */
export function toTemplateData(data: object): JsonObject {
  return attachFormattedLines(toPlainData(data));
}

/**
 * docxtemplater parser: `get(scope)` reads the tag's path in one scope; docxtemplater asks the innermost loop
 * scope first and goes outwards while the answer is null/undefined. A path whose first name the scope has
 * is settled there ('' if the rest is missing), so a line's `{formatted.total}` never falls through to the
 * invoice's `formatted.total`.
 */
function safeParser(tag: string): DXTParser {
  const path = parsePath(tag);
  if (path === undefined) throw new Error('it is not a data path (expected names joined by dots, like invoice.number)');
  return {
    get(scope: unknown, context: { meta?: { part?: { module?: string } } }) {
      const value = readOwnPath(scope, path);
      const isLoop = context?.meta?.part?.module === 'loop';
      if (value === undefined || value === null) {
        const settledHere = path.length > 0 && readOwnPath(scope, path.slice(0, 1)) !== undefined;
        return settledHere ? '' : undefined;
      }
      // Only loops/sections take objects and lists; a plain tag never prints "[object Object]".
      if (typeof value === 'object' && !isLoop) return '';
      return value;
    },
  };
}

interface DXTParser {
  get(scope: unknown, context: { meta?: { part?: { module?: string } } }): unknown;
}

interface TemplateErrorLike {
  message?: string;
  properties?: { id?: string; explanation?: string; xtag?: string; file?: string; errors?: TemplateErrorLike[]; rootError?: Error };
}

/** One line per template problem, from docxtemplater's MultiError (or a single template error). */
export function describeTemplateErrors(error: unknown): string[] {
  const e = error as TemplateErrorLike;
  const list = e?.properties?.errors && e.properties.errors.length > 0 ? e.properties.errors : [e];
  return list.map((item) => {
    const p = item?.properties;
    const where = p?.file ? ` (in ${p.file})` : '';
    if (p?.id === 'scopeparser_compilation_failed' && p.rootError) return `The tag "${p.xtag}" is invalid: ${p.rootError.message}${where}`;
    return `${p?.explanation ?? item?.message ?? String(item)}${where}`;
  });
}

function isTemplateError(error: unknown): boolean {
  const props = (error as TemplateErrorLike | null)?.properties;
  return typeof props === 'object' && props !== null && (Array.isArray(props.errors) || typeof props.explanation === 'string');
}

export async function renderDocx(template: Buffer, data: object): Promise<Buffer> {
  let zip: PizZip;
  try {
    zip = new PizZip(template);
  } catch (error) {
    throw new Error(`DOCX template is not a valid .docx (zip) file: ${(error as Error).message}`);
  }
  const view = toTemplateData(data);
  try {
    const doc = new Docxtemplater(zip, {
      paragraphLoop: true,
      linebreaks: true,
      stripInvalidXMLChars: true,
      errorLogging: false,
      nullGetter: () => '',
      parser: safeParser as never,
    });
    doc.render(view);
    return doc.getZip().generate({ type: 'nodebuffer', compression: 'DEFLATE' }) as Buffer;
  } catch (error) {
    if (!isTemplateError(error)) throw error;
    const problems = describeTemplateErrors(error);
    throw new Error(
      `DOCX template has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      {
        cause: error,
      },
    );
  }
}
