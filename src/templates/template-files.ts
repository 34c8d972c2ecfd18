import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TemplateLoadException } from './template.exception';
import type { Translations } from './template.helpers';

/** One template file, named by its path relative to the project root (always with `/`). */
export interface TemplateFile {
  /** e.g. `templates/email/welcome.hbs` */
  file: string;
  /** e.g. `welcome` */
  name: string;
  text: string;
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** Every `templates/<kind>/*.hbs` below `rootDir`, sorted by name; none when the folder is missing. */
export async function readTemplateFiles(rootDir: string, kind: 'email'): Promise<TemplateFile[]> {
  const dir = join(rootDir, 'templates', kind);
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.hbs'))
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const problems: string[] = [];
  const files: TemplateFile[] = [];
  for (const fileName of names) {
    const file = `templates/${kind}/${fileName}`;
    const name = fileName.slice(0, -'.hbs'.length);
    if (!TEMPLATE_NAME.test(name)) {
      problems.push(`${file}: a template name is lower-case letters, digits, "-" and "_" (like invoice-overdue)`);
      continue;
    }
    files.push({ file, name, text: await readFile(join(dir, fileName), 'utf8') });
  }
  if (problems.length > 0) throw new TemplateLoadException(problems);
  return files;
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
