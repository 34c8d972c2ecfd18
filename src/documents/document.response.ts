import { StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import type { RenderedDocument } from './document.service';

/**
 * A rendered document as the HTTP answer (the documents endpoint, a generateDocument tool): its content type and
 * length, `Content-Disposition` with the file name, no content sniffing — and, since an HTML document is served from
 * the API's origin, a Content-Security-Policy under which it may not run scripts or load anything.
 */
export function documentResponse(res: Response, document: RenderedDocument): StreamableFile {
  const body = typeof document.body === 'string' ? Buffer.from(document.body, 'utf8') : document.body;
  if (document.contentType.startsWith('text/html')) {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox");
  }
  res.setHeader('X-Content-Type-Options', 'nosniff');
  return new StreamableFile(body, {
    type: document.contentType,
    disposition: `${document.disposition}; filename="${document.filename}"`,
    length: body.length,
  });
}
