import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetadataProblem } from '../metadata/metadata.types';
import { TemplateLoadException } from './template.exception';
import type { Translations } from './template.helpers';

/** Template names (file names without the extension, and the last URL segment of the admin API). */
export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,99}$/;

export const TEMPLATE_NAME_RULE = 'a template name is 1–100 lower-case letters, digits, "-" and "_" (like invoice-overdue)';

/** A template read from its files, as the body the metadata store keeps for it. */
export interface TemplateFileSource {
  /** e.g. `welcome` */
  name: string;
  /** e.g. `templates/email/welcome.hbs` */
  file: string;
  /** `{ "source": <the .hbs text> }`, and for a document template `"docx"`/`"xlsx"`: the tag templates in base64. */
  body: { source: string; docx?: string; xlsx?: string };
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function fileNames(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort(byName);
}

/** Every `templates/email/<name>.hbs` below `rootDir`, by name; none when the folder is missing. */
export async function readEmailTemplateFiles(rootDir: string): Promise<{ sources: TemplateFileSource[]; problems: MetadataProblem[] }> {
  const dir = join(rootDir, 'templates', 'email');
  const sources: TemplateFileSource[] = [];
  const problems: MetadataProblem[] = [];
  for (const fileName of (await fileNames(dir)).filter((name) => name.endsWith('.hbs'))) {
    const file = `templates/email/${fileName}`;
    const name = fileName.slice(0, -'.hbs'.length);
    if (!TEMPLATE_NAME.test(name)) problems.push({ file, pointer: '', message: TEMPLATE_NAME_RULE });
    else sources.push({ name, file, body: { source: await readFile(join(dir, fileName), 'utf8') } });
  }
  return { sources, problems };
}

/**
 * Every `templates/documents/<name>.hbs` below `rootDir`, with the `<name>.docx` / `<name>.xlsx` tag templates beside
 * it (in base64); a tag template without its `.hbs` is a problem, as the `.hbs` names the module it prints.
 */
export async function readDocumentTemplateFiles(rootDir: string): Promise<{ sources: TemplateFileSource[]; problems: MetadataProblem[] }> {
  const dir = join(rootDir, 'templates', 'documents');
  const sources = new Map<string, TemplateFileSource>();
  const problems: MetadataProblem[] = [];
  const binaries: Array<{ name: string; format: 'docx' | 'xlsx'; fileName: string }> = [];
  for (const fileName of await fileNames(dir)) {
    const dot = fileName.lastIndexOf('.');
    const name = fileName.slice(0, dot);
    const ext = fileName.slice(dot + 1);
    if (ext !== 'hbs' && ext !== 'docx' && ext !== 'xlsx') continue;
    const file = `templates/documents/${fileName}`;
    if (!TEMPLATE_NAME.test(name)) problems.push({ file, pointer: '', message: TEMPLATE_NAME_RULE });
    else if (ext === 'hbs') sources.set(name, { name, file, body: { source: await readFile(join(dir, fileName), 'utf8') } });
    else binaries.push({ name, format: ext, fileName });
  }
  for (const { name, format, fileName } of binaries) {
    const template = sources.get(name);
    if (template) template.body[format] = (await readFile(join(dir, fileName))).toString('base64');
    else {
      problems.push({
        file: `templates/documents/${fileName}`,
        pointer: '',
        message: `a tag template prints records of the module named by templates/documents/${name}.hbs, which is missing`,
      });
    }
  }
  return { sources: [...sources.values()], problems };
}

/**
 * Every `metadata/translations/<lang>.json` below `rootDir`: a flat object of texts, `{ "greeting": "Hello {name}," }`.
 * A file that is not such an object stops the start.
 */
export async function readTranslations(rootDir: string): Promise<Translations> {
  const dir = join(rootDir, 'metadata', 'translations');
  const translations: Translations = Object.create(null) as Translations;
  if (!existsSync(dir)) return translations;
  const problems: string[] = [];
  for (const fileName of (await readdir(dir)).filter((name) => name.endsWith('.json')).sort()) {
    const file = `metadata/translations/${fileName}`;
    const lang = fileName.slice(0, -'.json'.length);
    if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(lang)) {
      problems.push(`${file}: the file name must be a language tag such as en.json or sv.json`);
      continue;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readFile(join(dir, fileName), 'utf8'));
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      problems.push(`${file}: must be an object of texts, like { "greeting": "Hello {name}," }`);
      continue;
    }
    const texts: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string') texts[key] = value;
      else problems.push(`${file}#/${key}: must be a text`);
    }
    translations[lang] = texts;
  }
  if (problems.length > 0) throw new TemplateLoadException(problems);
  return translations;
}
