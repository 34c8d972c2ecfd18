import type { ValidateFunction } from 'ajv';
import { metadataSchemaValidator, schemaProblems } from '../metadata/schema-loader';
import type { MetadataProblem } from '../metadata/metadata.types';
import type { CompileOptions, HandlebarsEnvironment } from './handlebars.environment';
import { TEMPLATE_NAME, TEMPLATE_NAME_RULE } from './template-files';
import { TemplateSyntaxException } from './template.exception';

/** An email template as the metadata store keeps it (`{ "source" }`), once it has passed validation. */
export interface EmailTemplateDefinition {
  /** `welcome` */
  name: string;
  /** `templates/email/welcome.hbs`: where it comes from, or would be written; named in errors. */
  file: string;
  /** The whole text: subject line, then the HTML body. */
  source: string;
}

/** What {@link splitEmailTemplate} cuts a source into: the subject (a piece of line 1) and the body (the whole text). */
export interface EmailTemplateParts {
  subject: { source: string; options: CompileOptions };
  body: { source: string; options: CompileOptions };
}

/**
 * The subject is the template's first line, a Handlebars comment:
 *
 *     {{!-- subject: {{t "opportunity_won" name=opportunity.name}} --}}
 *     <p>{{t "greeting" name=owner.name}}</p>
 *
 * The whole text is the HTML body (a comment on a line of its own renders as nothing, so line numbers in errors are
 * the file's). The subject is compiled on its own in text mode: a mail header is not HTML, so its values are not
 * HTML-escaped.
 */
const SUBJECT_LINE = /^\{\{!--[ \t]*subject:[ \t]*(.*?)[ \t]*--\}\}[ \t]*(?:\r?\n|$)/;

/** The subject and body of an email template, with where the subject stands; a missing subject line is a syntax error at 1:1. */
export function splitEmailTemplate(file: string, source: string): EmailTemplateParts {
  const match = SUBJECT_LINE.exec(source);
  if (!match) {
    throw new TemplateSyntaxException(
      { file, line: 1, column: 1 },
      'the first line must name the subject: {{!-- subject: Your subject with {{values}} --}}',
    );
  }
  const column = match[0].indexOf(match[1]) + 1;
  return {
    subject: { source: match[1], options: { mode: 'text', file, origin: { line: 1, column } } },
    body: { source, options: { mode: 'html', file } },
  };
}

/** A template syntax error as a metadata problem: in the body's `pointer` (`/source`), at its line and column. */
export function templateProblem(error: TemplateSyntaxException, pointer = '/source'): MetadataProblem {
  const { file, line, column } = error.location;
  return { file, pointer, line, column, message: error.reason };
}

/**
 * Validates email template bodies (`{ "source" }`): the JSON Schema, the name, the subject line, and that subject and
 * body compile in `environment` (the allow-listed helpers only). Every syntax error is a problem with line and column.
 */
export function validateEmailTemplates(
  sources: Array<{ name: string; file: string; body: unknown }>,
  environment: HandlebarsEnvironment,
): { templates: EmailTemplateDefinition[]; problems: MetadataProblem[] } {
  const validate = metadataSchemaValidator('email-template.schema.json');
  const templates: EmailTemplateDefinition[] = [];
  const problems: MetadataProblem[] = [];
  for (const { name, file, body } of sources) {
    if (!hasTemplateShape(name, file, body, validate, problems)) continue;
    const { source } = body as { source: string };
    const found: MetadataProblem[] = [];
    const check = (part: { source: string; options: CompileOptions }) => {
      try {
        environment.check(part.source, part.options);
      } catch (error) {
        if (!(error instanceof TemplateSyntaxException)) throw error;
        found.push(templateProblem(error));
      }
    };
    try {
      const parts = splitEmailTemplate(file, source);
      check(parts.subject);
      check(parts.body);
    } catch (error) {
      if (!(error instanceof TemplateSyntaxException)) throw error;
      found.push(templateProblem(error));
    }
    problems.push(...found);
    if (found.length === 0) templates.push({ name, file, source });
  }
  return { templates, problems };
}

/**
 * Whether a template's name and the shape of its body (by `validate`, the kind's JSON Schema) are right; what is
 * wrong goes to `problems`.
 */
export function hasTemplateShape(
  name: string,
  file: string,
  body: unknown,
  validate: ValidateFunction,
  problems: MetadataProblem[],
): boolean {
  if (!TEMPLATE_NAME.test(name)) problems.push({ file, pointer: '', message: TEMPLATE_NAME_RULE });
  else if (!validate(body)) problems.push(...schemaProblems(file, validate.errors));
  else return true;
  return false;
}
