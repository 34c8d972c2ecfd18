import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { assertPermission, hasPermission } from '../auth/permission.policy';
import type { CompiledModule } from '../metadata/compiled-module';
import { MetadataRegistry, type MetadataSnapshot } from '../metadata/metadata.registry';
import { RECORD_COLUMNS, RecordRepository, type RecordRow } from '../records/record.repository';
import { RecordService } from '../records/record.service';
import { toApiRecord, type ApiRecord } from '../records/record.view';
import type { SqlExecutor } from '../database/database';
import { TemplateRenderException } from '../templates/template.exception';
import type { LabelMap } from '../templates/template.helpers';
import { buildDocumentData, documentLabels } from './document-data';
import { DOCUMENT_FORMATS, DocumentTemplateStore, type DocumentFormat, type DocumentTemplate } from './document-template.store';
import { DocumentQueryException, DocumentTemplateNotFoundException } from './document.exception';
import { TAG_TEMPLATE_RENDERERS, type TagTemplateRenderers } from './document.renderers';
import { PDF_RENDERER, type PdfRenderer } from './pdf.renderer';

/** A rendered document, ready to send. */
export interface RenderedDocument {
  contentType: string;
  /** `invoice-INV-00001.pdf` */
  filename: string;
  /** Shown in the browser (`inline`: HTML, PDF) or downloaded (`attachment`: DOCX, XLSX). */
  disposition: 'inline' | 'attachment';
  body: Buffer | string;
}

export const CONTENT_TYPES: Record<DocumentFormat, string> = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

/**
 * Renders a record through a document template: HTML from the Handlebars template, PDF by printing that HTML, and
 * DOCX/XLSX from the tag templates of the same name. Reading a document needs read permission on its module.
 */
@Injectable()
export class DocumentService {
  private readonly logger = new Logger('Documents');
  // Labels per metadata snapshot and template; a publish makes a new snapshot, and the old entries go with it.
  private readonly labels = new WeakMap<MetadataSnapshot, Map<string, LabelMap>>();

  constructor(
    private readonly registry: MetadataRegistry,
    private readonly records: RecordService,
    private readonly repository: RecordRepository,
    private readonly templates: DocumentTemplateStore,
    @Inject(PDF_RENDERER) private readonly pdf: PdfRenderer,
    @Inject(TAG_TEMPLATE_RENDERERS) private readonly tagRenderers: TagTemplateRenderers,
  ) {}

  /** Renders record `id` of `moduleName` through document template `templateName` (the documents endpoint). */
  async render(
    ctx: RequestContext,
    moduleName: string,
    id: string,
    templateName: string,
    format: string = 'html',
    lang: string = 'en',
  ): Promise<RenderedDocument> {
    const module = this.registry.snapshot().module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    // The template and the query are checked before the record is read: a bad request costs no query.
    this.template(module, templateName, parseFormat(format));
    parseLang(lang);
    const record = await this.records.get(ctx, module.name, id);
    return this.renderRecord(ctx, this.repository.db, module.name, record, templateName, format, lang);
  }

  /**
   * Renders a record the caller has read already; related records are read through `executor`. Inside a transaction
   * (a tool attaching a PDF to a message it queues, say) pass the transaction: on PGlite, which has one connection, a
   * read outside it would wait for the transaction to end.
   */
  async renderRecord(
    ctx: RequestContext,
    executor: SqlExecutor,
    moduleName: string,
    record: ApiRecord,
    templateName: string,
    format: string = 'html',
    lang: string = 'en',
  ): Promise<RenderedDocument> {
    const snapshot = this.registry.snapshot();
    const module = snapshot.module(moduleName);
    assertPermission(ctx, `${module.name}:read`);
    const documentFormat = parseFormat(format);
    const language = parseLang(lang);
    const template = this.template(module, templateName, documentFormat);
    const data = await buildDocumentData(snapshot, module, record, {
      lang: language,
      canRead: (other) => hasPermission(ctx, `${other}:read`),
      fetch: (ids) => fetchRecords(executor, ids),
      today: new Date().toISOString().slice(0, 10),
    });
    const filename = `${template.name}-${String(record.number ?? record.id)}.${documentFormat}`.replace(/[^A-Za-z0-9._-]+/g, '_');
    const result = (body: Buffer | string): RenderedDocument => ({
      contentType: CONTENT_TYPES[documentFormat],
      filename,
      disposition: documentFormat === 'html' || documentFormat === 'pdf' ? 'inline' : 'attachment',
      body,
    });

    if (documentFormat === 'docx' || documentFormat === 'xlsx') {
      try {
        return result(await this.tagRenderers[documentFormat]!(template.binaries[documentFormat]!, data));
      } catch (error) {
        if (error instanceof AppException) throw error;
        this.logger.warn(`${template.name}.${documentFormat}: ${(error as Error).message}`);
        throw new TemplateRenderException(`${template.name}.${documentFormat}`, (error as Error).message);
      }
    }
    const html = standardsMode(template.html.render(data, { lang: language, labels: this.labelsOf(snapshot, module, template) }));
    return result(documentFormat === 'pdf' ? await this.pdf.render(html) : html);
  }

  /** The template `name` for `module` in `format`, or a 404 naming the ones there are. */
  private template(module: CompiledModule, name: string, format: DocumentFormat): DocumentTemplate {
    const template = this.templates.get(name);
    if (!template || template.module !== module.name || ((format === 'docx' || format === 'xlsx') && !template.binaries[format])) {
      throw new DocumentTemplateNotFoundException(module.name, name, format, this.templates.names(module.name, format));
    }
    return template;
  }

  private labelsOf(snapshot: MetadataSnapshot, module: CompiledModule, template: DocumentTemplate): LabelMap {
    let byTemplate = this.labels.get(snapshot);
    if (!byTemplate) this.labels.set(snapshot, (byTemplate = new Map()));
    let labels = byTemplate.get(template.name);
    if (!labels) byTemplate.set(template.name, (labels = documentLabels(snapshot, module, template.texts)));
    return labels;
  }
}

/**
 * Without a doctype a browser lays the page out in quirks mode (tables, for one, do not inherit the font size). Prettier's
 * Handlebars formatter drops `<!DOCTYPE html>` from templates, so it is added here when the document has none.
 */
function standardsMode(html: string): string {
  const start = html.trimStart();
  return /^<!doctype/i.test(start) ? start : `<!DOCTYPE html>\n${start}`;
}

/** The records with these ids, whatever their module, as the API shows them (one query). */
async function fetchRecords(executor: SqlExecutor, ids: string[]): Promise<ApiRecord[]> {
  const rows = await executor.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = ANY(string_to_array($1, ',')::uuid[])`, [
    ids.join(','),
  ]);
  return rows.map(toApiRecord);
}

function parseFormat(format: string): DocumentFormat {
  if ((DOCUMENT_FORMATS as readonly string[]).includes(format)) return format as DocumentFormat;
  throw new DocumentQueryException('format', `format must be one of ${DOCUMENT_FORMATS.join(', ')}, got "${format}".`);
}

function parseLang(lang: string): string {
  try {
    if (LANG.test(lang)) return Intl.getCanonicalLocales(lang)[0];
  } catch {
    // reported below
  }
  throw new DocumentQueryException('lang', `lang must be a language tag such as en, sv or sv-SE, got "${lang}".`);
}
