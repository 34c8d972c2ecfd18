import { Body, Controller, Get, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { RequirePermission } from '../auth/require-permission.decorator';
import { kindOfSegment, METADATA_KINDS, type MetadataKind } from './metadata-set';
import { MetadataService } from './metadata.service';

function kindOf(segment: string): MetadataKind {
  const kind = kindOfSegment(segment);
  if (!kind) {
    const known = Object.values(METADATA_KINDS).map((k) => k.segment);
    throw new AppException('not_found', 'unknown_metadata_kind', `There is no metadata kind "${segment}"; use ${known.join(', ')}.`);
  }
  return kind;
}

/**
 * The admin metadata API for every kind (`modules`, `layouts`, `rules`, `workflows`,
 * `tools`, `email-templates`, `document-templates`): read, dry-run, publish, list
 * versions and roll back. Layouts and rules are named by their module.
 */
@Controller('api/v1/admin/metadata/:kind')
@RequirePermission('admin')
export class MetadataController {
  constructor(private readonly metadata: MetadataService) {}

  @Get()
  list(@Param('kind') kind: string) {
    return { data: this.metadata.list(kindOf(kind)) };
  }

  @Get(':name')
  get(@Param('kind') kind: string, @Param('name') name: string) {
    return { data: this.metadata.get(kindOf(kind), name) };
  }

  @Put(':name')
  async publish(
    @Ctx() ctx: RequestContext,
    @Param('kind') kind: string,
    @Param('name') name: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { created, view } = await this.metadata.publish(ctx, kindOf(kind), name, body);
    res.status(created ? 201 : 200);
    return { data: view };
  }

  @Post(':name/validate')
  @HttpCode(200)
  async validate(@Param('kind') kind: string, @Param('name') name: string, @Body() body: unknown) {
    const errors = await this.metadata.validate(kindOf(kind), name, body);
    return { valid: errors.length === 0, errors };
  }

  @Get(':name/versions')
  async versions(@Param('kind') kind: string, @Param('name') name: string) {
    return { data: await this.metadata.listVersions(kindOf(kind), name) };
  }

  @Post(':name/rollback/:version')
  @HttpCode(200)
  async rollback(@Ctx() ctx: RequestContext, @Param('kind') kind: string, @Param('name') name: string, @Param('version') version: string) {
    if (!/^[1-9][0-9]{0,8}$/.test(version)) {
      throw new AppException('bad_request', 'invalid_version', `The version must be a positive integer, got "${version}".`);
    }
    return { data: await this.metadata.rollback(ctx, kindOf(kind), name, Number(version)) };
  }
}
