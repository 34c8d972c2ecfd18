import { createHash } from 'node:crypto';
import { metadataSchemaValidator } from '../metadata/schema-loader';
import type { MetadataProblem, ModuleDefinition } from '../metadata/metadata.types';
import { templateProblem, hasTemplateShape } from '../templates/email-template';
import type { HandlebarsEnvironment } from '../templates/handlebars.environment';
import { TemplateSyntaxException } from '../templates/template.exception';
import type { LabelMap } from '../templates/template.helpers';
import { parseDocumentHeader } from './document-template.header';
import type { TagTemplateRenderers } from './document.renderers';

/** The tag-template formats a document template may carry beside its HTML. */
export type TagFormat = 'docx' | 'xlsx';
export const TAG_FORMATS: readonly TagFormat[] = ['docx', 'xlsx'];

/** A document template as the metadata store keeps it (`{ "source", "docx"?, "xlsx"? }`), read and checked. */
export interface DocumentTemplateDefinition {
  /** `invoice` */
  name: string;
  /** `templates/documents/invoice.hbs` */
  file: string;
  /** The HTML template, header comment included. */
  source: string;
  /** The module whose records it prints (from the header). */
  module: string;
  /** The template's own words per language (from the header), read with `{{label "key"}}`. */
  texts: LabelMap;
  /** The DOCX/XLSX tag templates, decoded. */
  binaries: Partial<Record<TagFormat, Buffer>>;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * Results of filling a tag template with no data, by format and content hash: a publish validates the whole set, so
 * an unchanged DOCX is checked once, not on every publish of anything. Bounded; the oldest go first.
 */
const tagChecks = new Map<string, string | undefined>();
const MAX_TAG_CHECKS = 200;

/** Fills a tag template with no data, as a render would with some: its tag syntax errors surface now. */
async function checkTagTemplate(format: TagFormat, body: Buffer, renderers: TagTemplateRenderers): Promise<string | undefined> {
  const render = renderers[format];
  if (!render) return undefined;
  const key = `${format}:${createHash('sha256').update(body).digest('hex')}`;
  if (tagChecks.has(key)) return tagChecks.get(key);
  let problem: string | undefined;
  try {
    await render(body, {});
  } catch (error) {
    // The renderers list several problems on lines of their own ("…has 2 problems:\n  - a\n  - b").
    problem = (error as Error).message.replace(/:\n {2}- /, ': ').replace(/\n {2}- /g, '; ');
  }
  if (tagChecks.size >= MAX_TAG_CHECKS) tagChecks.delete(tagChecks.keys().next().value!);
  tagChecks.set(key, problem);
  return problem;
}

/**
 * Validates document template bodies: the JSON Schema, the name, the header (module and texts; the module must
 * exist), that the HTML compiles in `environment`, and that each DOCX/XLSX is a zip the tag renderers can fill. A
 * problem in the source has line and column; one in a tag template points at `/docx` or `/xlsx` in the body and names
 * the `.docx`/`.xlsx` file.
 */
export async function validateDocumentTemplates(
  sources: Array<{ name: string; file: string; body: unknown }>,
  modules: ReadonlyMap<string, ModuleDefinition>,
  environment: HandlebarsEnvironment,
  renderers: TagTemplateRenderers,
): Promise<{ templates: DocumentTemplateDefinition[]; problems: MetadataProblem[] }> {
  const validate = metadataSchemaValidator('document-template.schema.json');
  const templates: DocumentTemplateDefinition[] = [];
  const problems: MetadataProblem[] = [];
  for (const { name, file, body } of sources) {
    if (!hasTemplateShape(name, file, body, validate, problems)) continue;
    const found: MetadataProblem[] = [];
    const { source, ...tagTemplates } = body as { source: string } & Partial<Record<TagFormat, string>>;
    let header: ReturnType<typeof parseDocumentHeader> | undefined;
    try {
      header = parseDocumentHeader(file, source);
      if (!modules.has(header.module)) {
        const { line, column } = header.moduleLocation;
        found.push({
          file,
          pointer: '/source',
          line,
          column,
          message: `document header: there is no module "${header.module}" (known: ${[...modules.keys()].sort().join(', ')})`,
        });
      }
      environment.check(source, { mode: 'html', file });
    } catch (error) {
      if (!(error instanceof TemplateSyntaxException)) throw error;
      found.push(templateProblem(error));
    }
    const binaries: Partial<Record<TagFormat, Buffer>> = {};
    for (const format of TAG_FORMATS) {
      const encoded = tagTemplates[format];
      if (encoded === undefined) continue;
      const tagFile = file.replace(/\.hbs$/, `.${format}`);
      const decoded = Buffer.from(encoded, 'base64');
      const problem = !decoded.subarray(0, 4).equals(ZIP_MAGIC)
        ? `not a ${format.toUpperCase()} file (a .${format} is a zip archive; the admin API takes it base64-encoded)`
        : await checkTagTemplate(format, decoded, renderers);
      if (problem) found.push({ file: tagFile, pointer: `/${format}`, message: problem });
      else binaries[format] = decoded;
    }
    problems.push(...found);
    if (found.length === 0 && header) templates.push({ name, file, source, module: header.module, texts: header.texts, binaries });
  }
  return { templates, problems };
}
