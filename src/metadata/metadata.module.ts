import { Module } from '@nestjs/common';
import { MetadataController } from './metadata.controller';
import { MetadataRegistry } from './metadata.registry';
import { MetadataService } from './metadata.service';
import { MetadataVersionRepository } from './metadata-version.repository';

@Module({
  providers: [MetadataRegistry, MetadataService, MetadataVersionRepository],
  controllers: [MetadataController],
  exports: [MetadataRegistry, MetadataService],
})
export class MetadataModule {}
