import { Module } from '@nestjs/common';
import { FormulaRefreshService } from '../formulas/formula-refresh.service';
import { JobRepository } from '../jobs/job.repository';
import { JobsController } from '../jobs/jobs.controller';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordIndexManager } from './record-index.manager';
import { RecordRepository } from './record.repository';
import { RecordService } from './record.service';
import { RecordsController } from './records.controller';

/** Records: their storage and write path, expression indexes, formula refresh and its background jobs. */
@Module({
  imports: [MetadataModule],
  providers: [RecordRepository, RecordService, RecordIndexManager, FormulaRefreshService, JobRepository],
  controllers: [JobsController],
  exports: [RecordRepository, RecordService],
})
export class RecordsModule {}

/**
 * The generic record routes, `/api/v1/:module` and `/api/v1/:module/:id`. A module of their own, imported after every
 * module with a fixed route under /api/v1 (admin/…, a module's card, tools, documents, workflow runs): Nest registers
 * routes in module order, and these would otherwise match those paths first.
 */
@Module({
  imports: [RecordsModule],
  controllers: [RecordsController],
})
export class RecordRoutesModule {}
