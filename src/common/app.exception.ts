/**
 * Errors are data: every capability throws a subclass of {@link AppException}
 * with a stable `code`; the global problem filter turns it into RFC 9457
 * problem+json. Services never throw HTTP exceptions.
 */
export interface FieldError {
  /** The field (or JSON path such as `lines[2].price`) the problem is about. */
  field: string;
  code: string;
  message: string;
}

export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation'
  | 'precondition_required'
  | 'unavailable';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation: 422,
  precondition_required: 428,
  unavailable: 503,
};

export class AppException extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Machine-readable reason, e.g. `record_not_found`; becomes the problem `type` suffix. */
    readonly code: string,
    /** Human-readable explanation of this occurrence: what is wrong and how to fix it. */
    readonly detail: string,
    readonly errors: FieldError[] = [],
    /** Extra members for the problem body (e.g. `currentVersion`). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }

  get status(): number {
    return STATUS_BY_KIND[this.kind];
  }
}
