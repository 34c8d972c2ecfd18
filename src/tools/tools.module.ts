import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { MailModule } from '../mail/mail.module';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordsModule } from '../records/records.module';
import { WorkflowRunsModule } from '../workflows/workflow-runs.module';
import { ToolService } from './tool.service';
import { ToolsController } from './tools.controller';

/** Module tools: the card's buttons, run through `POST /api/v1/:module/:id/tools/:tool` or a workflow's runTool step. */
@Module({
  imports: [MetadataModule, RecordsModule, DocumentsModule, MailModule, WorkflowRunsModule],
  providers: [ToolService],
  controllers: [ToolsController],
  exports: [ToolService],
})
export class ToolsModule {}
