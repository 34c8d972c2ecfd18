import { AppException } from '../common/app.exception';
import type { MetadataProblem } from './metadata.types';

/** Metadata that fails validation: every problem, each with file, JSON pointer and message. */
export class MetadataValidationException extends AppException {
  constructor(
    readonly problems: MetadataProblem[],
    subject: string,
  ) {
    super(
      'validation',
      'invalid_metadata',
      `${subject} has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
        .slice(0, 3)
        .map((p) => `${p.pointer || '/'}${p.line !== undefined ? ` at line ${p.line}, column ${p.column ?? 1}:` : ''} ${p.message}`)
        .join('; ')}${problems.length > 3 ? '; …' : ''}`,
      problems.map((p) => ({
        field: p.pointer || '/',
        code: 'invalid_metadata',
        message: p.message,
        ...(p.line !== undefined ? { line: p.line, column: p.column ?? 1 } : {}),
      })),
      { problems },
    );
  }
}

export class MetadataNotFoundException extends AppException {
  constructor(kind: string, name: string, version?: number) {
    super(
      'not_found',
      'metadata_not_found',
      version === undefined ? `There is no ${kind} named "${name}".` : `The ${kind} "${name}" has no version ${version}.`,
    );
  }
}
