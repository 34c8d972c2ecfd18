import { AppException, type FieldError } from '../common/app.exception';

/** A write that breaks the module's rules: 422 with one entry per field. */
export class RecordValidationException extends AppException {
  constructor(module: string, errors: FieldError[]) {
    super(
      'validation',
      'record_invalid',
      `The ${module} record is not valid: ${errors
        .slice(0, 5)
        .map((e) => e.message)
        .join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''}.`,
      errors,
    );
  }
}

export class RecordNotFoundException extends AppException {
  constructor(module: string, id: string) {
    super('not_found', 'record_not_found', `There is no ${module} record with id ${id}.`);
  }
}

export class StaleVersionException extends AppException {
  constructor(module: string, id: string, expected: string, current: number) {
    super(
      'precondition_failed',
      'stale_version',
      `The ${module} record ${id} is at version ${current}, not ${expected}: someone changed it. Read it again and reapply your change.`,
      [],
      { currentVersion: current },
    );
  }
}
