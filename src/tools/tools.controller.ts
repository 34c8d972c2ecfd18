import { Body, Controller, HttpCode, Param, Post, Res, type StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { documentResponse } from '../documents/document.response';
import { ToolService, type ToolResult } from './tool.service';

/**
 * Runs a module tool on a record: `{ "params": {...} }` in; out, what it created, changed, queued and started
 * (`{ "data": { tool, created, updated, mail, runs } }`) — or, for a generateDocument tool, the document itself
 * (its content type, `Content-Disposition` with the file name), so a card button can open or download it as it is.
 */
@Controller('api/v1')
export class ToolsController {
  constructor(private readonly tools: ToolService) {}

  @Post(':module/:id/tools/:tool')
  @HttpCode(200)
  async run(
    @Ctx() ctx: RequestContext,
    @Param('module') module: string,
    @Param('id') id: string,
    @Param('tool') tool: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ data: ToolResult } | StreamableFile> {
    const { result, document } = await this.tools.run(ctx, module, id, tool, body);
    if (!document) return { data: result };
    return documentResponse(res, document);
  }
}
