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

/**
 * Records and everything that acts on them: cards, formula refresh, jobs,
 * workflows and module tools. One module, because the generic record routes must be registered
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
  ],
  controllers: [JobsController, WorkflowRunsController, CardsController, ToolsController, RecordsController],
  exports: [RecordService],
})
export class RecordsModule {}
