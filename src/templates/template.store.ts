import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { HandlebarsEnvironment, type CompiledTemplate, type RenderOptions } from './handlebars.environment';
import { htmlToText } from './html-to-text';
import { readTemplateFiles, type TemplateFile } from './template-files';
import { TemplateLoadException, TemplateNotFoundException, TemplateSyntaxException } from './template.exception';

/** A rendered email: the subject (plain text, one line), the HTML body and its plain-text alternative. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

interface EmailTemplate {
  name: string;
  file: string;
  subject: CompiledTemplate;
  body: CompiledTemplate;
}

/**
 * The subject is the template's first line, a Handlebars comment:
 *
 *     {{!-- subject: {{t "opportunity_won" name=opportunity.name}} --}}
 *     <p>{{t "greeting" name=owner.name}}</p>
 *
 * The whole file is the HTML body (a comment on a line of its own renders as nothing, so line numbers in errors are
 * the file's). The subject is compiled on its own in text mode: a mail header is not HTML, so its values are not
 * HTML-escaped; line breaks in the result are folded to spaces.
 */
const SUBJECT_LINE = /^\{\{!--[ \t]*subject:[ \t]*(.*?)[ \t]*--\}\}[ \t]*(?:\r?\n|$)/;

/**
 * Email templates (`templates/email/<name>.hbs`), loaded and compiled when the application starts: a template that
 * does not compile stops the start with its file, line and column.
 */
@Injectable()
export class TemplateStore implements OnModuleInit {
  private email = new Map<string, EmailTemplate>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly environment: HandlebarsEnvironment,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  /** (Re)reads and compiles every email template; the set is replaced only when all of them compile. */
  async load(): Promise<void> {
    const problems: string[] = [];
    const next = new Map<string, EmailTemplate>();
    for (const file of await readTemplateFiles(this.config.rootDir, 'email')) {
      try {
        next.set(file.name, this.compileEmail(file));
      } catch (error) {
        if (!(error instanceof TemplateSyntaxException)) throw error;
        problems.push(error.detail);
      }
    }
    if (problems.length > 0) throw new TemplateLoadException(problems);
    this.email = next;
  }

  has(name: string): boolean {
    return this.email.has(name);
  }

  names(): string[] {
    return [...this.email.keys()];
  }

  /** Renders email template `name` with `data` (plain JSON is what templates see) in `options.lang`. */
  render(name: string, data: unknown, options: RenderOptions = {}): RenderedEmail {
    const template = this.email.get(name);
    if (!template) throw new TemplateNotFoundException('email', name, this.names());
    // The subject line (a comment) renders as nothing; the blank it leaves is trimmed.
    const html = template.body.render(data, options).trim();
    const subject = template.subject
      .render(data, options)
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/\s{2,}/g, ' ')
      .trim();
    return { subject, html, text: htmlToText(html) };
  }

  private compileEmail(file: TemplateFile): EmailTemplate {
    const match = SUBJECT_LINE.exec(file.text);
    if (!match) {
      throw new TemplateSyntaxException(
        { file: file.file, line: 1, column: 1 },
        'the first line must name the subject: {{!-- subject: Your subject with {{values}} --}}',
      );
    }
    const column = match[0].indexOf(match[1]) + 1;
    return {
      name: file.name,
      file: file.file,
      subject: this.environment.compile(match[1], { mode: 'text', file: file.file, origin: { line: 1, column } }),
      body: this.environment.compile(file.text, { mode: 'html', file: file.file }),
    };
  }
}
