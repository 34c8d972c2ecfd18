import { Injectable, Logger } from '@nestjs/common';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { splitEmailTemplate } from './email-template';
import { HandlebarsEnvironment, type CompiledTemplate, type RenderOptions } from './handlebars.environment';
import { htmlToText } from './html-to-text';
import { TemplateNotFoundException, TemplateSyntaxException } from './template.exception';

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
 * The email templates of the current metadata snapshot (`templates/email/<name>.hbs`, imported at start, published
 * through `/api/v1/admin/metadata/email-templates/:name`). They are validated with the whole metadata set — a
 * template that does not compile is refused with its file, line and column, at start or at publish — and compiled
 * here once per snapshot, when it is swapped in, never per render. A publish is live at once in this process and,
 * through the registry's reload, in every other.
 */
@Injectable()
export class TemplateStore {
  private readonly logger = new Logger('Templates');
  private compiled?: { snapshot: MetadataSnapshot; templates: ReadonlyMap<string, EmailTemplate> };

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly environment: HandlebarsEnvironment,
  ) {
    // Compile when a snapshot is swapped in (at start and on every publish), not on the first message.
    registry.onSwap(async (snapshot) => {
      this.templatesOf(snapshot);
    });
  }

  has(name: string): boolean {
    return this.current().has(name);
  }

  names(): string[] {
    return [...this.current().keys()];
  }

  /** Renders email template `name` with `data` (plain JSON is what templates see) in `options.lang`. */
  render(name: string, data: unknown, options: RenderOptions = {}): RenderedEmail {
    const template = this.current().get(name);
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

  private current(): ReadonlyMap<string, EmailTemplate> {
    return this.templatesOf(this.registry.snapshot());
  }

  /** The compiled templates of `snapshot`; the environment caches by source, so unchanged templates cost nothing. */
  private templatesOf(snapshot: MetadataSnapshot): ReadonlyMap<string, EmailTemplate> {
    if (this.compiled?.snapshot === snapshot) return this.compiled.templates;
    const templates = new Map<string, EmailTemplate>();
    for (const definition of [...snapshot.emailTemplates.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      try {
        const parts = splitEmailTemplate(definition.file, definition.source);
        templates.set(definition.name, {
          name: definition.name,
          file: definition.file,
          subject: this.environment.compile(parts.subject.source, parts.subject.options),
          body: this.environment.compile(parts.body.source, parts.body.options),
        });
      } catch (error) {
        // Validated before it was stored, so this is a stored version this build no longer accepts: left out, said.
        if (!(error instanceof TemplateSyntaxException)) throw error;
        this.logger.error(`Email template ${definition.name} is not served: ${error.detail}`);
      }
    }
    this.compiled = { snapshot, templates };
    return templates;
  }
}
