import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { UUID } from '../common/ids';
import { AppException } from '../common/app.exception';
import { RequestContext } from '../common/request-context';
import { ApiKeyService, ApiKeyView, CreatedApiKey } from './api-key.service';
import { Ctx } from './ctx.decorator';
import { RequirePermission } from './require-permission.decorator';

/** Admin API for API keys. The secret of a key is returned once, by POST. */
@Controller('api/v1/admin/api-keys')
@RequirePermission('admin')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeyService) {}

  @Get()
  async list(@Ctx() ctx: RequestContext): Promise<{ data: ApiKeyView[] }> {
    return { data: await this.apiKeys.list(ctx) };
  }

  @Post()
  @HttpCode(201)
  async create(@Ctx() ctx: RequestContext, @Body() body: unknown): Promise<{ data: CreatedApiKey }> {
    return { data: await this.apiKeys.create(ctx, body) };
  }

  @Post(':id/lock')
  @HttpCode(200)
  async lock(@Ctx() ctx: RequestContext, @Param('id') id: string): Promise<{ data: ApiKeyView }> {
    return { data: await this.apiKeys.lock(ctx, parseId(id)) };
  }

  @Post(':id/unlock')
  @HttpCode(200)
  async unlock(@Ctx() ctx: RequestContext, @Param('id') id: string): Promise<{ data: ApiKeyView }> {
    return { data: await this.apiKeys.unlock(ctx, parseId(id)) };
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Ctx() ctx: RequestContext, @Param('id') id: string): Promise<void> {
    await this.apiKeys.delete(ctx, parseId(id));
  }
}

function parseId(id: string): string {
  if (!UUID.test(id)) {
    throw new AppException(
      'bad_request',
      'invalid_id',
      `"${id.slice(0, 60)}" is not an API key id: ids are UUIDs such as "0b9c3d1e-5f1a-4c2b-9d3e-7a8b9c0d1e2f".`,
    );
  }
  return id.toLowerCase();
}
