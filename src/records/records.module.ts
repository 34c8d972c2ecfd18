import { Module } from '@nestjs/common';
import { CardService } from '../cards/card.service';
import { CardsController } from '../cards/cards.controller';
import { FormulaRefreshService } from '../formulas/formula-refresh.service';
import { JobRepository } from '../jobs/job.repository';
import { JobsController } from '../jobs/jobs.controller';
import { MailModule } from '../mail/mail.module';
import { MailService } from '../mail/mail.service';
import { MetadataModule } from '../metadata/metadata.module';
import { WorkflowEngine, WORKFLOW_MAILER } from '../workflows/workflow.engine';
import { WorkflowRunRepository } from '../workflows/workflow-run.repository';
import { WorkflowRunsController } from '../workflows/workflow-runs.controller';
import { RecordIndexManager } from './record-index.manager';
import { RecordRepository } from './record.repository';
import { RecordService } from './record.service';
import { RecordsController } from './records.controller';
import { ToolService } from '../tools/tool.service';
import { ToolsController } from '../tools/tools.controller';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { ChromiumPdfRenderer } from '../documents/chromium-pdf.renderer';
import { DocumentTemplateStore } from '../documents/document-template.store';
import { TAG_RENDERERS, TAG_TEMPLATE_RENDERERS } from '../documents/document.renderers';
import { DocumentService } from '../documents/document.service';
import { DocumentsController } from '../documents/documents.controller';
import { PDF_RENDERER } from '../documents/pdf.renderer';

/**
 * Records and everything that acts on them: cards, formula refresh, jobs,
 * workflows, module tools and documents. One module, because the generic record routes must be registered
 * after every fixed route under /api/v1 (admin/…, card/evaluate, workflow-runs).
 */
@Module({
  imports: [MetadataModule, MailModule],
  providers: [
    RecordRepository,
    RecordService,
    RecordIndexManager,
    CardService,
    FormulaRefreshService,
    JobRepository,
    WorkflowRunRepository,
    WorkflowEngine,
    { provide: WORKFLOW_MAILER, useExisting: MailService },
    ToolService,
    {
      provide: PDF_RENDERER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ChromiumPdfRenderer({ executablePath: config.chromiumPath }),
    },
    { provide: TAG_TEMPLATE_RENDERERS, useValue: TAG_RENDERERS },
    DocumentTemplateStore,
    DocumentService,
  ],
  controllers: [JobsController, WorkflowRunsController, CardsController, ToolsController, DocumentsController, RecordsController],
  exports: [RecordService],
})
export class RecordsModule {}
