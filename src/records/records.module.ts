import { Module } from '@nestjs/common';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordIndexManager } from './record-index.manager';
import { RecordRepository } from './record.repository';
import { RecordService } from './record.service';
import { RecordsController } from './records.controller';

@Module({
  imports: [MetadataModule],
  providers: [RecordRepository, RecordService, RecordIndexManager],
  controllers: [RecordsController],
  exports: [RecordService],
})
export class RecordsModule {}
