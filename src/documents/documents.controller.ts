import { Controller, Get, Param, Req, Res, type StreamableFile } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Ctx } from '../auth/ctx.decorator';
import type { RequestContext } from '../common/request-context';
import { DocumentQueryException } from './document.exception';
import { documentResponse } from './document.response';
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
    return documentResponse(res, document);
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
