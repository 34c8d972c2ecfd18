import type { FieldDefinition, Labels } from '../metadata/metadata.types';

const YES_NO: Record<string, [string, string]> = { en: ['Yes', 'No'], sv: ['Ja', 'Nej'], de: ['Ja', 'Nein'] };

/** Text per language, falling back to English, then to the given name. */
export function labelIn(labels: Labels | undefined, lang: string, fallback: string): string {
  return labels?.[lang] ?? labels?.[lang.slice(0, 2)] ?? labels?.en ?? fallback;
}

// Building an Intl formatter costs ~20-50 µs; a card formats dozens of values, so formatters are reused.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(lang: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(lang, options)));
  return format;
}

function dateFormat(lang: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) dateFormats.set(key, (format = new Intl.DateTimeFormat(lang, options)));
  return format;
}

/**
 * A field's value as a person reads it in `lang`: numbers and dates in the
 * language's format, booleans as words, relations as the related record's name.
 */
export function displayValue(field: FieldDefinition, value: unknown, lang: string, relatedName?: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  switch (field.type) {
    case 'integer':
      return numberFormat(lang, { maximumFractionDigits: 0 }).format(Number(value));
    case 'decimal':
      return numberFormat(lang, { maximumFractionDigits: 6 }).format(Number(value));
    case 'currency':
      return numberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(value));
    case 'percent':
      return numberFormat(lang, { style: 'percent', maximumFractionDigits: 2 }).format(Number(value) / 100);
    case 'boolean':
      return (YES_NO[lang.slice(0, 2)] ?? YES_NO.en)[value ? 0 : 1];
    case 'date':
      return dateFormat(lang, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${String(value)}T00:00:00Z`));
    case 'datetime':
      return dateFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(String(value)));
    case 'multipicklist':
      return Array.isArray(value) ? value.join(', ') : String(value);
    case 'relation':
      return relatedName ?? String(value);
    case 'lines':
      return Array.isArray(value) ? String(value.length) : null;
    default:
      return String(value);
  }
}

/** What to call a record in a relation's display value: its name, subject or title field, else its number. */
export function recordTitle(record: Record<string, unknown>): string {
  for (const key of ['name', 'subject', 'title']) {
    if (typeof record[key] === 'string' && record[key]) return record[key] as string;
  }
  if (typeof record.first_name === 'string' || typeof record.last_name === 'string') {
    return [record.first_name, record.last_name].filter(Boolean).join(' ');
  }
  return String(record.number ?? record.id);
}
