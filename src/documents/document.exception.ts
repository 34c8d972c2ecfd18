import { AppException } from '../common/app.exception';

/** The hint every "no PDF" answer carries: what to install or configure. */
export const PDF_HINT =
  'PDF rendering needs Chromium: install it (Debian: apt-get install chromium-headless-shell, or chromium) or set CHROMIUM_PATH.';

/** No document template of that name (and format) for the module: 404 listing the ones there are. */
export class DocumentTemplateNotFoundException extends AppException {
  constructor(module: string, template: string, format: string, known: string[]) {
    super(
      'not_found',
      'document_template_not_found',
      `There is no ${format} document template "${template}" for ${module}` +
        (known.length > 0 ? ` (${format} templates for ${module}: ${known.join(', ')}).` : ` (${module} has no ${format} templates).`),
      [],
      { template, format, known },
    );
  }
}

/** A bad `format`, `lang` or unknown query parameter on the documents endpoint. */
export class DocumentQueryException extends AppException {
  constructor(field: string, message: string) {
    super('bad_request', 'invalid_query', message, [{ field, code: 'invalid_value', message }]);
  }
}

/** Chromium is missing, cannot be started, or died while printing: 503, saying how to enable PDF rendering. */
export class PdfUnavailableException extends AppException {
  constructor(reason?: string) {
    super('unavailable', 'pdf_unavailable', reason ? `${reason} ${PDF_HINT}` : PDF_HINT);
  }
}

/** Chromium is running but could not print this document (it took longer than the timeout, say): 503, worth a retry. */
export class PdfFailedException extends AppException {
  constructor(reason: string) {
    super(
      'unavailable',
      'pdf_failed',
      `Chromium could not print the document (${reason}). Try again; if it keeps failing, check the template.`,
    );
  }
}
