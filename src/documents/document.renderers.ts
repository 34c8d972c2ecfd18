import type { TagFormat } from './document-template.validator';
import { renderDocx } from './docx.renderer';
import { renderXlsx } from './xlsx.renderer';

/** Fills a DOCX or XLSX tag template with the document data. */
export type TagTemplateRenderer = (template: Buffer, data: object) => Promise<Buffer>;

/** The tag-template renderers per format; a format without one is not offered (its templates are not loaded). */
export type TagTemplateRenderers = Partial<Record<TagFormat, TagTemplateRenderer>>;

/** Nest injection token for the {@link TagTemplateRenderers}. */
export const TAG_TEMPLATE_RENDERERS = Symbol('TAG_TEMPLATE_RENDERERS');

/** The engine's renderers: docxtemplater for DOCX, xlsx-template for XLSX. */
export const TAG_RENDERERS: TagTemplateRenderers = { docx: renderDocx, xlsx: renderXlsx };
