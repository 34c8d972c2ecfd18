import { Module } from '@nestjs/common';
import { MailModule } from '../mail/mail.module';
import { MailService } from '../mail/mail.service';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordsModule } from '../records/records.module';
import { ToolsModule } from '../tools/tools.module';
import { WorkflowEngine, WORKFLOW_MAILER } from './workflow.engine';
import { WorkflowRunsController } from './workflow-runs.controller';
import { WorkflowRunsModule } from './workflow-runs.module';

/** Workflows: the engine (runs from outbox events, schedules, delays, retries) and the run log API. */
@Module({
  imports: [MetadataModule, RecordsModule, MailModule, ToolsModule, WorkflowRunsModule],
  providers: [WorkflowEngine, { provide: WORKFLOW_MAILER, useExisting: MailService }],
  controllers: [WorkflowRunsController],
})
export class WorkflowsModule {}
