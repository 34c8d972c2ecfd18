import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { HandlebarsEnvironment, type CompiledTemplate } from '../templates/handlebars.environment';
import { TemplateLoadException, TemplateSyntaxException } from '../templates/template.exception';
import type { LabelMap } from '../templates/template.helpers';
import { parseDocumentHeader } from './document-template.header';
import { TAG_TEMPLATE_RENDERERS, type TagTemplateRenderers } from './document.renderers';

/** The formats a document renders to. `html` and `pdf` come from the `.hbs` template; `docx`/`xlsx` are tag templates. */
export const DOCUMENT_FORMATS = ['html', 'pdf', 'docx', 'xlsx'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];
export type BinaryFormat = 'docx' | 'xlsx';
const BINARY_FORMATS: readonly BinaryFormat[] = ['docx', 'xlsx'];

/** One document template: the compiled HTML template, and the DOCX/XLSX tag templates of the same name, if any. */
export interface DocumentTemplate {
  /** `invoice` */
  name: string;
  /** `templates/documents/invoice.hbs` */
  file: string;
  /** The module whose records it prints. */
  module: string;
  /** The template's own words, per language (`{{label "title"}}`). */
  texts: LabelMap;
  html: CompiledTemplate;
  binaries: Partial<Record<BinaryFormat, Buffer>>;
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * Document templates, `templates/documents/<name>.hbs` (HTML with Handlebars, in the same isolated environment
 * and with the same helpers as email), with `<name>.docx` / `<name>.xlsx` tag templates beside them. All are read
 * and compiled when the application starts: a template that does not compile stops the start with its file, line
 * and column. Each `.hbs` names its module in its header ({@link parseDocumentHeader}); the tag templates print
 * records of the module of the `.hbs` of the same name.
 */
@Injectable()
export class DocumentTemplateStore implements OnModuleInit {
  private templates = new Map<string, DocumentTemplate>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly environment: HandlebarsEnvironment,
    // Without them, DOCX/XLSX templates are loaded unchecked (unit tests of the HTML side).
    @Optional() @Inject(TAG_TEMPLATE_RENDERERS) private readonly tagRenderers?: TagTemplateRenderers,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  /** (Re)reads every document template; the set is replaced only when all of them compile. */
  async load(): Promise<void> {
    const dir = join(this.config.rootDir, 'templates', 'documents');
    const problems: string[] = [];
    const next = new Map<string, DocumentTemplate>();
    const entries = existsSync(dir) ? await readdir(dir, { withFileTypes: true }) : [];
    const files = entries
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
    const binaries: Array<{ name: string; format: BinaryFormat; file: string }> = [];
    for (const fileName of files) {
      const dot = fileName.lastIndexOf('.');
      const name = fileName.slice(0, dot);
      const ext = fileName.slice(dot + 1);
      const file = `templates/documents/${fileName}`;
      if (ext !== 'hbs' && !(BINARY_FORMATS as readonly string[]).includes(ext)) continue;
      if (!TEMPLATE_NAME.test(name)) {
        problems.push(`${file}: a template name is lower-case letters, digits, "-" and "_" (like invoice or sales-order)`);
        continue;
      }
      if (ext !== 'hbs') {
        binaries.push({ name, format: ext as BinaryFormat, file });
        continue;
      }
      try {
        next.set(name, this.compile(file, await readFile(join(dir, fileName), 'utf8')));
      } catch (error) {
        if (!(error instanceof TemplateSyntaxException)) throw error;
        problems.push(error.detail);
      }
    }
    for (const binary of binaries) {
      const template = next.get(binary.name);
      const body = await readFile(join(dir, `${binary.name}.${binary.format}`));
      if (!body.subarray(0, 4).equals(ZIP_MAGIC)) {
        problems.push(`${binary.file}: not a ${binary.format.toUpperCase()} file (a ${binary.format} is a zip archive)`);
      } else if (this.tagRenderers && !this.tagRenderers[binary.format]) {
        // No renderer for the format in this build: the template is not offered (a 404 names what is).
        continue;
      } else if (template) {
        const problem = await this.check(binary.format, body);
        if (problem) problems.push(`${binary.file}: ${problem}`);
        else template.binaries[binary.format] = body;
      } else if (!problems.some((p) => p.startsWith(`templates/documents/${binary.name}.hbs:`))) {
        problems.push(
          `${binary.file}: a tag template prints records of the module named by templates/documents/${binary.name}.hbs, which is missing`,
        );
      }
    }
    if (problems.length > 0) throw new TemplateLoadException(problems);
    this.templates = next;
  }

  /**
   * Compiles one document template (header and body), as a publish does: a syntax error is a
   * {@link TemplateSyntaxException} (422) naming the file, line and column.
   */
  compile(file: string, text: string): DocumentTemplate {
    const header = parseDocumentHeader(file, text);
    const name = file.replace(/^.*\//, '').replace(/\.hbs$/, '');
    return {
      name,
      file,
      module: header.module,
      texts: header.texts,
      html: this.environment.compile(text, { mode: 'html', file }),
      binaries: {},
    };
  }

  /** Fills a tag template with no data, as a publish would: its tag syntax errors surface now rather than per request. */
  private async check(format: BinaryFormat, body: Buffer): Promise<string | undefined> {
    const render = this.tagRenderers?.[format];
    if (!render) return undefined;
    try {
      await render(body, {});
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  get(name: string): DocumentTemplate | undefined {
    return this.templates.get(name);
  }

  /** The names of the templates for `module` that render to `format`, sorted. */
  names(module: string, format: DocumentFormat): string[] {
    return [...this.templates.values()]
      .filter((t) => t.module === module && (format === 'html' || format === 'pdf' || t.binaries[format] !== undefined))
      .map((t) => t.name)
      .sort();
  }
}
