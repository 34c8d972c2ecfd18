import { Controller, Get, Param, Query } from '@nestjs/common';
import { UUID } from '../common/ids';
import { AppException } from '../common/app.exception';
import { RequirePermission } from '../auth/require-permission.decorator';
import { JobRepository } from './job.repository';

const STATUSES = ['queued', 'running', 'completed', 'failed'];

/** Background jobs (formula backfills, …) with their progress, for admins. */
@Controller('api/v1/admin/jobs')
@RequirePermission('admin')
export class JobsController {
  constructor(private readonly jobs: JobRepository) {}

  @Get()
  async list(@Query('status') status: unknown, @Query('type') type: unknown) {
    if (status !== undefined && (typeof status !== 'string' || !STATUSES.includes(status))) {
      throw new AppException('bad_request', 'invalid_status', `status must be one of ${STATUSES.join(', ')}.`);
    }
    if (type !== undefined && (typeof type !== 'string' || type.length > 100))
      throw new AppException('bad_request', 'invalid_type', 'type must be a job type such as formula.backfill.');
    return { data: await this.jobs.list({ status: status as string | undefined, type: type as string | undefined }, 100) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    if (!UUID.test(id)) throw new AppException('bad_request', 'invalid_id', `"${id}" is not a job id (a UUID).`);
    const job = await this.jobs.find(id);
    if (!job) throw new AppException('not_found', 'job_not_found', `There is no job with id ${id}.`);
    return { data: job };
  }
}
