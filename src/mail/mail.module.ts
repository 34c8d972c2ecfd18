import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { TemplatesModule } from '../templates/templates.module';
import { MAIL_TRANSPORT, SmtpMailTransport, type MailTransport } from './mail-transport';
import { MailController } from './mail.controller';
import { MailRepository } from './mail.repository';
import { MailService } from './mail.service';

/** The mail outbox (`mail_messages`), its `mail.send` job, the SMTP transport (when SMTP_URL is set) and the admin list. */
@Module({
  imports: [TemplatesModule],
  controllers: [MailController],
  providers: [
    {
      provide: MAIL_TRANSPORT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): MailTransport | null =>
        config.smtpUrl ? new SmtpMailTransport(config.smtpUrl, config.mailFrom) : null,
    },
    MailRepository,
    MailService,
  ],
  exports: [MailService, TemplatesModule],
})
export class MailModule implements OnApplicationShutdown {
  constructor(@Inject(MAIL_TRANSPORT) private readonly transport: MailTransport | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport?.close();
  }
}
