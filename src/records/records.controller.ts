import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Ctx } from '../auth/ctx.decorator';
import type { RequestContext } from '../common/request-context';
import { RecordService } from './record.service';
import { etagOf } from './record.view';

/** Query parameters in order, repeated keys kept, parsed without qs (no nested-object surprises). */
function queryOf(req: Request): Array<[string, string]> {
  const at = req.originalUrl.indexOf('?');
  return at < 0 ? [] : [...new URLSearchParams(req.originalUrl.slice(at + 1)).entries()];
}

/**
 * The generated REST API: one controller serves every module, resolved from
 * metadata per request (registered last, so fixed routes such as /admin win).
 */
@Controller('api/v1')
export class RecordsController {
  constructor(private readonly records: RecordService) {}

  @Get(':module')
  list(@Ctx() ctx: RequestContext, @Param('module') module: string, @Req() req: Request) {
    return this.records.list(ctx, module, queryOf(req));
  }

  @Post(':module')
  async create(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.records.create(ctx, module, body);
    res.status(201).setHeader('ETag', etagOf(record)).setHeader('Location', `/api/v1/${module}/${record.id}`);
    return { data: record };
  }

  @Get(':module/:id')
  async get(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.records.get(ctx, module, id);
    res.setHeader('ETag', etagOf(record));
    return { data: record };
  }

  @Patch(':module/:id')
  async update(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.records.update(ctx, module, id, body, ifMatch);
    res.setHeader('ETag', etagOf(record));
    return { data: record };
  }

  @Delete(':module/:id')
  @HttpCode(204)
  async delete(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ) {
    await this.records.delete(ctx, module, id, ifMatch);
  }

  @Post(':module/:id/archive')
  @HttpCode(200)
  async archive(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.records.setArchived(ctx, module, id, true);
    res.setHeader('ETag', etagOf(record));
    return { data: record };
  }

  @Post(':module/:id/unarchive')
  @HttpCode(200)
  async unarchive(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const record = await this.records.setArchived(ctx, module, id, false);
    res.setHeader('ETag', etagOf(record));
    return { data: record };
  }

  @Get(':module/:id/history')
  history(@Ctx() ctx: RequestContext, @Param('module') module: string, @Param('id') id: string, @Req() req: Request) {
    return this.records.history(ctx, module, id, queryOf(req));
  }
}
