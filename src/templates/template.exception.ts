import { AppException } from '../common/app.exception';

/** Where a template problem is: file (or template name), 1-based line and column. */
export interface TemplateLocation {
  file: string;
  line: number;
  column: number;
}

/** A template that does not compile: names the file, line and column, and what is wrong there. */
export class TemplateSyntaxException extends AppException {
  constructor(
    readonly location: TemplateLocation,
    /** What is wrong, without the location (the detail prefixes it with `file:line:column: `). */
    readonly reason: string,
  ) {
    super('validation', 'template_syntax_error', `${location.file}:${location.line}:${location.column}: ${reason}`, [], { ...location });
  }
}

export class TemplateNotFoundException extends AppException {
  constructor(kind: string, name: string, known: string[]) {
    super(
      'not_found',
      'template_not_found',
      `There is no ${kind} template named "${name}"${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}.`,
    );
  }
}

/** A template that compiled but failed on the data it was given (a bad currency code, a value a helper cannot read, …). */
export class TemplateRenderException extends AppException {
  constructor(name: string, reason: string) {
    super('validation', 'template_render_failed', `The template "${name}" could not be rendered: ${reason}`);
  }
}

/** Templates or translations that stop the start: every problem, each with its file (and line and column). */
export class TemplateLoadException extends AppException {
  constructor(readonly problems: string[]) {
    super(
      'validation',
      'invalid_templates',
      `${problems.length} template problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      [],
      { problems },
    );
  }
}
