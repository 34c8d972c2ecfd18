import type { HelperOptions } from 'handlebars';

/** Texts per language: `{ "en": { "greeting": "Hello {name}," }, "sv": { … } }` (from `metadata/translations/<lang>.json`). */
export type Translations = Record<string, Record<string, string>>;

/** Field labels for `{{label}}`: keyed by `field` or `module.field`, a text or a text per language. */
export type LabelMap = Record<string, string | Record<string, string>>;

/** What the helpers read from the render's `@data` (set by the environment, never by the template's data). */
export interface RenderData {
  lang: string;
  currency: string;
  timeZone: string;
  labels: LabelMap;
}

/** Thrown by a helper when its arguments make no sense; the environment reports it as a render failure. */
export class HelperArgumentError extends Error {}

const DEFAULT_CURRENCY: Record<string, string> = { sv: 'SEK', nb: 'NOK', no: 'NOK', nn: 'NOK', da: 'DKK', is: 'ISK', en: 'EUR' };

/** The currency `{{currency}}` uses when neither the call nor the render options name one. */
export function defaultCurrency(lang: string): string {
  return DEFAULT_CURRENCY[lang.slice(0, 2).toLowerCase()] ?? 'EUR';
}

// Intl formatters are slow to build and fast to use: cache them (bounded: languages come from callers).
const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
const MAX_FORMATS = 500;
const remember = <F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, format: F): F => {
  if (formats.size >= MAX_FORMATS) formats.clear();
  formats.set(key, format);
  return format;
};

function numberFormat(lang: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${lang}|${JSON.stringify(options)}`;
  const format = formats.get(key) as Intl.NumberFormat | undefined;
  return format ?? remember(key, new Intl.NumberFormat(lang, options));
}

function dateFormat(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${lang}|${JSON.stringify(options)}`;
  const format = formats.get(key) as Intl.DateTimeFormat | undefined;
  return format ?? remember(key, new Intl.DateTimeFormat(lang, options));
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const STYLES = ['short', 'medium', 'long', 'full'] as const;
type Style = (typeof STYLES)[number];

/** The helper's options object is always the last argument; the ones before it are the template's arguments. */
function split(args: unknown[]): { params: unknown[]; options: HelperOptions; data: RenderData } {
  const options = args[args.length - 1] as HelperOptions;
  return { params: args.slice(0, -1), options, data: options.data as RenderData };
}

const isBlank = (value: unknown) => value === undefined || value === null || value === '';

function toNumber(helper: string, value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  if (!Number.isFinite(number)) throw new HelperArgumentError(`{{${helper}}} needs a number, got ${JSON.stringify(value)}`);
  return number;
}

function style(helper: string, value: unknown, fallback: Style): Style {
  if (isBlank(value)) return fallback;
  if (typeof value === 'string' && (STYLES as readonly string[]).includes(value)) return value as Style;
  throw new HelperArgumentError(`{{${helper}}} style must be one of ${STYLES.join(', ')}, got ${JSON.stringify(value)}`);
}

function toDate(helper: string, value: unknown): { date: Date; dateOnly: boolean } {
  const dateOnly = typeof value === 'string' && DATE_ONLY.test(value);
  const date =
    typeof value === 'number'
      ? new Date(value)
      : typeof value === 'string'
        ? new Date(dateOnly ? `${value}T00:00:00Z` : value)
        : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw new HelperArgumentError(`{{${helper}}} needs a date (YYYY-MM-DD or ISO 8601), got ${JSON.stringify(value)}`);
  return { date, dateOnly };
}

/** `{name}` placeholders filled from the helper's hash (`{{t "greeting" name=contact.first_name}}`). */
function interpolate(text: string, values: Record<string, unknown>): string {
  return text.replace(/\{([a-zA-Z0-9_]+)\}/g, (match, key: string) =>
    Object.prototype.hasOwnProperty.call(values, key) && !isBlank(values[key]) ? String(values[key]) : match,
  );
}

function pick(texts: Record<string, string> | undefined, key: string): string | undefined {
  if (!texts || !Object.prototype.hasOwnProperty.call(texts, key)) return undefined;
  const value = texts[key];
  return typeof value === 'string' ? value : undefined;
}

function humanise(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The allow-list of helpers, besides the kept built-ins (`if`, `unless`, `each`, `with`, `lookup`). Every helper
 * returns a plain string, so Handlebars HTML-escapes it like any value; none returns a SafeString.
 *
 * - `{{date value "short|medium|long|full"}}` — a date (YYYY-MM-DD stays that day) in the render language.
 * - `{{datetime value "short|medium|long|full"}}` — date and time, in the render's time zone (default UTC).
 * - `{{number value decimals}}` — a number in the render language; `decimals` fixes the fraction digits.
 * - `{{currency value "SEK"}}` — money; the code defaults to the render's currency, else the language's.
 * - `{{t "key" name=value}}` / `{{translate …}}` — text from `metadata/translations/<lang>.json`, `{name}` filled in.
 * - `{{label "field"}}` / `{{label "module" "field"}}` — a field label from the render's label map, in the language.
 * Blank values (undefined, null, '') render as nothing.
 */
export function createHelpers(translations: Translations): Record<string, (...args: unknown[]) => string> {
  const translate = (...args: unknown[]): string => {
    const { params, options, data } = split(args);
    const key = String(params[0] ?? '');
    const lang = data.lang;
    const text = pick(translations[lang], key) ?? pick(translations[lang.slice(0, 2)], key) ?? pick(translations.en, key);
    return interpolate(text ?? key, (options.hash ?? {}) as Record<string, unknown>);
  };
  return {
    date: (...args) => {
      const { params, data } = split(args);
      if (isBlank(params[0])) return '';
      const { date, dateOnly } = toDate('date', params[0]);
      return dateFormat(data.lang, { dateStyle: style('date', params[1], 'medium'), timeZone: dateOnly ? 'UTC' : data.timeZone }).format(
        date,
      );
    },
    datetime: (...args) => {
      const { params, data } = split(args);
      if (isBlank(params[0])) return '';
      const { date } = toDate('datetime', params[0]);
      const dateStyle = style('datetime', params[1], 'medium');
      return dateFormat(data.lang, { dateStyle, timeStyle: 'short', timeZone: data.timeZone }).format(date);
    },
    number: (...args) => {
      const { params, data } = split(args);
      if (isBlank(params[0])) return '';
      const value = toNumber('number', params[0]);
      if (isBlank(params[1])) return numberFormat(data.lang, { maximumFractionDigits: 6 }).format(value);
      const decimals = toNumber('number', params[1]);
      if (!Number.isInteger(decimals) || decimals < 0 || decimals > 20)
        throw new HelperArgumentError('{{number}} decimals must be 0 to 20');
      return numberFormat(data.lang, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
    },
    currency: (...args) => {
      const { params, data } = split(args);
      if (isBlank(params[0])) return '';
      const value = toNumber('currency', params[0]);
      const code = isBlank(params[1]) ? data.currency : String(params[1]).toUpperCase();
      if (!/^[A-Z]{3}$/.test(code))
        throw new HelperArgumentError(`{{currency}} needs an ISO 4217 code such as SEK, got ${JSON.stringify(params[1])}`);
      return numberFormat(data.lang, { style: 'currency', currency: code }).format(value);
    },
    t: translate,
    translate,
    label: (...args) => {
      const { params, data } = split(args);
      const parts = params.filter((p) => !isBlank(p)).map(String);
      if (parts.length === 0) throw new HelperArgumentError('{{label}} needs a field name');
      const key = parts.join('.');
      const field = parts[parts.length - 1];
      const labels = data.labels ?? {};
      const entry = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
      if (typeof entry === 'string') return entry;
      if (entry && typeof entry === 'object') {
        const text = pick(entry, data.lang) ?? pick(entry, data.lang.slice(0, 2)) ?? pick(entry, 'en');
        if (text !== undefined) return text;
      }
      return humanise(field);
    },
  };
}
