import { Module } from '@nestjs/common';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordsModule } from '../records/records.module';
import { CardService } from './card.service';
import { CardsController } from './cards.controller';

/** The entity card: a record laid out with its rules' state, related lists and tools, and draft evaluation. */
@Module({
  imports: [MetadataModule, RecordsModule],
  providers: [CardService],
  controllers: [CardsController],
})
export class CardsModule {}
