import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { RequirePermission } from '../auth/require-permission.decorator';
import { MetadataService } from './metadata.service';

/** The admin metadata API: read, dry-run, publish, list versions and roll back modules. */
@Controller('api/v1/admin/metadata/modules')
@RequirePermission('admin')
export class MetadataController {
  constructor(private readonly metadata: MetadataService) {}

  @Get()
  list() {
    return { data: this.metadata.listModules() };
  }

  @Get(':name')
  async get(@Param('name') name: string) {
    return { data: await this.metadata.getModule(name) };
  }

  @Put(':name')
  async publish(@Ctx() ctx: RequestContext, @Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const { created, view } = await this.metadata.publish(ctx, name, body);
    res.status(created ? 201 : 200);
    return { data: view };
  }

  @Post(':name/validate')
  @HttpCode(200)
  validate(@Param('name') name: string, @Body() body: unknown) {
    const errors = this.metadata.validate(name, body);
    return { valid: errors.length === 0, errors };
  }

  @Get(':name/versions')
  async versions(@Param('name') name: string) {
    return { data: await this.metadata.listVersions(name) };
  }

  @Post(':name/rollback/:version')
  @HttpCode(200)
  async rollback(@Ctx() ctx: RequestContext, @Param('name') name: string, @Param('version') version: string) {
    if (!/^[1-9][0-9]{0,8}$/.test(version)) {
      throw new AppException('bad_request', 'invalid_version', `The version must be a positive integer, got "${version}".`);
    }
    return { data: await this.metadata.rollback(ctx, name, Number(version)) };
  }
}
