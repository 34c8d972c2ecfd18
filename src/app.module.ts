import { Module, type DynamicModule } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { AuthModule } from './auth/auth.module';
import type { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthController } from './health/health.controller';
import { MailModule } from './mail/mail.module';
import { MetadataModule } from './metadata/metadata.module';
import { QueueModule } from './queue/queue.module';
import { CardsModule } from './cards/cards.module';
import { DocumentsModule } from './documents/documents.module';
import { RecordRoutesModule, RecordsModule } from './records/records.module';
import { ToolsModule } from './tools/tools.module';
import { WorkflowsModule } from './workflows/workflows.module';

@Module({ controllers: [HealthController] })
class HealthModule {}

/** The engine. RecordRoutesModule comes last: its generic `/api/v1/:module` routes must not shadow fixed ones. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        QueueModule,
        AuthModule,
        MetadataModule,
        ApiModule,
        HealthModule,
        MailModule,
        RecordsModule,
        CardsModule,
        DocumentsModule,
        ToolsModule,
        WorkflowsModule,
        RecordRoutesModule,
      ],
    };
  }
}
