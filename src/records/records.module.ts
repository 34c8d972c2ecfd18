import { Module } from '@nestjs/common';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordIndexManager } from './record-index.manager';
import { RecordRepository } from './record.repository';
import { RecordService } from './record.service';
import { RecordsController } from './records.controller';
import { CardService } from '../cards/card.service';
import { FormulaRefreshService } from '../formulas/formula-refresh.service';
import { JobRepository } from '../jobs/job.repository';
import { JobsController } from '../jobs/jobs.controller';
import { CardsController } from '../cards/cards.controller';

@Module({
  imports: [MetadataModule],
  providers: [RecordRepository, RecordService, RecordIndexManager, CardService, FormulaRefreshService, JobRepository],
  // Cards first: the generic record routes must not shadow /card/evaluate.
  controllers: [JobsController, CardsController, RecordsController],
  exports: [RecordService],
})
export class RecordsModule {}
