import { Controller, Get, Param, Req, Res, StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Ctx } from '../auth/ctx.decorator';
import type { RequestContext } from '../common/request-context';
import { DocumentQueryException } from './document.exception';
import { DocumentService } from './document.service';

const PARAMETERS = new Set(['format', 'lang']);

/**
 * `GET /api/v1/:module/:id/documents/:template?format=html|pdf|docx|xlsx&lang=sv`: a record printed through a
 * document template. HTML and PDF are shown inline, DOCX and XLSX downloaded.
 */
@Controller('api/v1')
export class DocumentsController {
  constructor(private readonly documents: DocumentService) {}

  @Get(':module/:id/documents/:template')
  async render(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Param('template') template: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const query = queryOf(req);
    const document = await this.documents.render(ctx, module, id, template, query.get('format') ?? 'html', query.get('lang') ?? 'en');
    const body = typeof document.body === 'string' ? Buffer.from(document.body, 'utf8') : document.body;
    if (document.contentType.startsWith('text/html')) {
      // Served from the API's origin: the document may not run scripts or load anything there.
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox");
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    return new StreamableFile(body, {
      type: document.contentType,
      disposition: `${document.disposition}; filename="${document.filename}"`,
      length: body.length,
    });
  }
}

/** `format` and `lang`, each at most once; anything else is a 400 naming it. */
function queryOf(req: Request): Map<string, string> {
  const at = req.originalUrl.indexOf('?');
  const params = new Map<string, string>();
  for (const [key, value] of at < 0 ? [] : new URLSearchParams(req.originalUrl.slice(at + 1))) {
    if (!PARAMETERS.has(key)) throw new DocumentQueryException(key, `Unknown query parameter "${key}"; use format and lang.`);
    if (params.has(key)) throw new DocumentQueryException(key, `Give ${key} once.`);
    params.set(key, value);
  }
  return params;
}
