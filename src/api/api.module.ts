import { Module } from '@nestjs/common';
import { MetadataModule } from '../metadata/metadata.module';
import { OpenApiController } from './openapi.controller';

@Module({ imports: [MetadataModule], controllers: [OpenApiController] })
export class ApiModule {}
