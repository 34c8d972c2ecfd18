import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { RequirePermission } from '../auth/require-permission.decorator';
import { AppException } from '../common/app.exception';
import { isUuid } from './mail-input';
import { MAIL_STATUSES, type MailStatus } from './mail.repository';
import { MailService } from './mail.service';

const checkId = (id: string) => {
  if (!isUuid(id)) throw new AppException('bad_request', 'invalid_id', `"${id}" is not a mail message id (a UUID).`);
};

/** The mail outbox for admins: every message with its status, attempts and last error. */
@Controller('api/v1/admin/mail')
@RequirePermission('admin')
export class MailController {
  constructor(private readonly mail: MailService) {}

  @Get()
  async list(@Query('status') status: unknown) {
    if (status !== undefined && (typeof status !== 'string' || !(MAIL_STATUSES as readonly string[]).includes(status))) {
      throw new AppException('bad_request', 'invalid_status', `status must be one of ${MAIL_STATUSES.join(', ')}.`);
    }
    return { data: await this.mail.list({ status: status as MailStatus | undefined }) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    checkId(id);
    return { data: await this.mail.get(id) };
  }

  /** Queue a kept or failed message again. */
  @Post(':id/retry')
  @HttpCode(202)
  async retry(@Param('id') id: string) {
    checkId(id);
    return { data: await this.mail.retry(id) };
  }
}
