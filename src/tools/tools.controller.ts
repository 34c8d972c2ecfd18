import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { ToolService } from './tool.service';

/** Runs a module tool on a record: `{ "params": {...} }` in, what it created and changed out. */
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
  ) {
    return { data: await this.tools.run(ctx, module, id, tool, body) };
  }
}
