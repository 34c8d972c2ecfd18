import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { HandlebarsEnvironment, type CompiledTemplate } from '../templates/handlebars.environment';
import { TemplateSyntaxException } from '../templates/template.exception';
import { parseDocumentHeader } from './document-template.header';
import { TAG_FORMATS, type DocumentTemplateDefinition, type TagFormat } from './document-template.validator';
import { TAG_TEMPLATE_RENDERERS, type TagTemplateRenderers } from './document.renderers';

/** The formats a document renders to. `html` and `pdf` come from the `.hbs` template; `docx`/`xlsx` are tag templates. */
export const DOCUMENT_FORMATS = ['html', 'pdf', 'docx', 'xlsx'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/**
 * One document template as it is served: its definition with the HTML template compiled, and only the DOCX/XLSX tag
 * templates this build can render.
 */
export interface DocumentTemplate extends Omit<DocumentTemplateDefinition, 'source'> {
  html: CompiledTemplate;
}

/**
 * The document templates of the current metadata snapshot: `templates/documents/<name>.hbs` (HTML with Handlebars, in
 * the same isolated environment and with the same helpers as email) with `<name>.docx` / `<name>.xlsx` tag templates
 * beside them, imported at start and published through `/api/v1/admin/metadata/document-templates/:name`. The
 * metadata set validates them (header, module, syntax with line and column, tag templates filled once with no data);
 * this store compiles the HTML once per snapshot, when it is swapped in, never per request. Each `.hbs` names its
 * module in its header ({@link parseDocumentHeader}); the tag templates print records of that module.
 */
@Injectable()
export class DocumentTemplateStore {
  private readonly logger = new Logger('Documents');
  private compiled?: { snapshot: MetadataSnapshot; templates: ReadonlyMap<string, DocumentTemplate> };

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly environment: HandlebarsEnvironment,
    // Without them every tag template is offered (unit tests of the HTML side); with them, only formats they render.
    @Optional() @Inject(TAG_TEMPLATE_RENDERERS) private readonly tagRenderers?: TagTemplateRenderers,
  ) {
    registry.onSwap(async (snapshot) => {
      this.templatesOf(snapshot);
    });
  }

  /**
   * Compiles one document template (header and body) from its text: a syntax error is a
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

  get(name: string): DocumentTemplate | undefined {
    return this.current().get(name);
  }

  /** The names of the templates for `module` that render to `format`, sorted. */
  names(module: string, format: DocumentFormat): string[] {
    return [...this.current().values()]
      .filter((t) => t.module === module && (format === 'html' || format === 'pdf' || t.binaries[format] !== undefined))
      .map((t) => t.name)
      .sort();
  }

  private current(): ReadonlyMap<string, DocumentTemplate> {
    return this.templatesOf(this.registry.snapshot());
  }

  /** The compiled templates of `snapshot`; the environment caches by source, so unchanged templates cost nothing. */
  private templatesOf(snapshot: MetadataSnapshot): ReadonlyMap<string, DocumentTemplate> {
    if (this.compiled?.snapshot === snapshot) return this.compiled.templates;
    const templates = new Map<string, DocumentTemplate>();
    for (const definition of snapshot.documentTemplates.values()) {
      try {
        templates.set(definition.name, this.fromDefinition(definition));
      } catch (error) {
        // Validated before it was stored, so this is a stored version this build no longer accepts: left out, said.
        if (!(error instanceof TemplateSyntaxException)) throw error;
        this.logger.error(`Document template ${definition.name} is not served: ${error.detail}`);
      }
    }
    this.compiled = { snapshot, templates };
    return templates;
  }

  private fromDefinition(definition: DocumentTemplateDefinition): DocumentTemplate {
    const binaries: Partial<Record<TagFormat, Buffer>> = {};
    for (const format of TAG_FORMATS) {
      const body = definition.binaries[format];
      // No renderer for the format in this build: the template is not offered in it (a 404 names what is).
      if (body && (!this.tagRenderers || this.tagRenderers[format])) binaries[format] = body;
    }
    return {
      name: definition.name,
      file: definition.file,
      module: definition.module,
      texts: definition.texts,
      html: this.environment.compile(definition.source, { mode: 'html', file: definition.file }),
      binaries,
    };
  }
}
