import { AppException, type FieldError } from '../common/app.exception';

/** A message that cannot be queued as given: 422 with one entry per problem (recipients, record, attachments). */
export class MailValidationException extends AppException {
  constructor(errors: FieldError[]) {
    super('validation', 'mail_invalid', `The message cannot be queued: ${errors.map((e) => e.message).join('; ')}.`, errors);
  }
}

export class MailNotFoundException extends AppException {
  constructor(id: string) {
    super('not_found', 'mail_not_found', `There is no mail message with id ${id}.`);
  }
}

/** Only a kept or failed message can be sent again; a queued one is on its way and a sent one is done. */
export class MailNotRetryableException extends AppException {
  constructor(id: string, status: string) {
    super('conflict', 'mail_not_retryable', `The mail message ${id} is ${status}; only kept or failed messages can be sent again.`);
  }
}
