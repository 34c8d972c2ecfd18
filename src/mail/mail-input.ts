import type { FieldError } from '../common/app.exception';
import { UUID } from '../common/ids';

/** What {@link MailService.queue} takes. */
export interface QueueMailInput {
  to: string[];
  cc?: string[];
  /** An email template name (`templates/email/<name>.hbs`). */
  template: string;
  /** What the template sees: plain JSON (dates become ISO strings; functions and class methods are dropped). */
  data: object;
  /** Language of numbers, dates and translations; default `en`. */
  lang?: string;
  /** A second message with the same key is not queued: the first one is returned. */
  idempotencyKey?: string;
  /** The record the message is about (listed with the message). */
  record?: { module: string; id: string };
  workflowRunId?: string;
  attachments?: Array<{ filename: string; contentType: string; content: Buffer }>;
}

// A pragmatic address check (local@domain.tld, no spaces, quotes or brackets); the SMTP server has the last word.
const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\.]{2,}$/;
const MAX_RECIPIENTS = 50;
const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export const isUuid = (value: string) => UUID.test(value);

/** Every problem of `input` (empty when it can be queued), with the recipients trimmed. */
export function checkMailInput(input: QueueMailInput): { errors: FieldError[]; to: string[]; cc: string[] } {
  const errors: FieldError[] = [];
  const addresses = (field: 'to' | 'cc', list: unknown): string[] => {
    if (list === undefined && field === 'cc') return [];
    if (!Array.isArray(list)) {
      errors.push({ field, code: 'invalid_type', message: `${field} must be a list of email addresses` });
      return [];
    }
    return list.map((raw, i) => {
      const address = typeof raw === 'string' ? raw.trim() : '';
      if (!EMAIL.test(address) || address.length > 254)
        errors.push({
          field: `${field}[${i}]`,
          code: 'invalid_email',
          message: `${field}[${i}] ${JSON.stringify(raw)} is not an email address`,
        });
      return address;
    });
  };
  const to = addresses('to', input.to);
  const cc = addresses('cc', input.cc);
  if (Array.isArray(input.to) && input.to.length === 0)
    errors.push({ field: 'to', code: 'required', message: 'the message needs at least one recipient' });
  if (to.length + cc.length > MAX_RECIPIENTS)
    errors.push({ field: 'to', code: 'too_many', message: `a message has at most ${MAX_RECIPIENTS} recipients (to and cc)` });
  if (typeof input.template !== 'string' || input.template === '')
    errors.push({ field: 'template', code: 'required', message: 'template must name an email template' });
  if (input.data === null || typeof input.data !== 'object')
    errors.push({ field: 'data', code: 'invalid_type', message: 'data must be an object' });
  if (
    input.idempotencyKey !== undefined &&
    (typeof input.idempotencyKey !== 'string' || input.idempotencyKey === '' || input.idempotencyKey.length > 200)
  )
    errors.push({ field: 'idempotencyKey', code: 'invalid', message: 'idempotencyKey must be a text of 1 to 200 characters' });
  if (input.record !== undefined) {
    if (typeof input.record.module !== 'string' || !/^[a-z][a-z0-9_]{0,62}$/.test(input.record.module))
      errors.push({ field: 'record.module', code: 'invalid', message: 'record.module must be a module name' });
    if (typeof input.record.id !== 'string' || !isUuid(input.record.id))
      errors.push({ field: 'record.id', code: 'invalid', message: 'record.id must be a record id (a UUID)' });
  }
  if (input.workflowRunId !== undefined && (typeof input.workflowRunId !== 'string' || !isUuid(input.workflowRunId)))
    errors.push({ field: 'workflowRunId', code: 'invalid', message: 'workflowRunId must be a UUID' });
  let bytes = 0;
  (input.attachments ?? []).forEach((attachment, i) => {
    if (typeof attachment.filename !== 'string' || attachment.filename.trim() === '' || /[\r\n/\\]/.test(attachment.filename))
      errors.push({
        field: `attachments[${i}].filename`,
        code: 'invalid',
        message: `attachments[${i}] needs a file name without line breaks or slashes`,
      });
    if (typeof attachment.contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(attachment.contentType))
      errors.push({
        field: `attachments[${i}].contentType`,
        code: 'invalid',
        message: `attachments[${i}] needs a content type such as application/pdf`,
      });
    if (!Buffer.isBuffer(attachment.content))
      errors.push({ field: `attachments[${i}].content`, code: 'invalid_type', message: `attachments[${i}].content must be a Buffer` });
    else bytes += attachment.content.length;
  });
  if (bytes > MAX_ATTACHMENT_BYTES)
    errors.push({
      field: 'attachments',
      code: 'too_large',
      message: `attachments may total at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB`,
    });
  return { errors, to, cc };
}
