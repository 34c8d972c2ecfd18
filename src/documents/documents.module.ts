import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { MetadataModule } from '../metadata/metadata.module';
import { RecordsModule } from '../records/records.module';
import { TemplatesModule } from '../templates/templates.module';
import { ChromiumPdfRenderer } from './chromium-pdf.renderer';
import { DocumentTemplateStore } from './document-template.store';
import { TAG_RENDERERS, TAG_TEMPLATE_RENDERERS } from './document.renderers';
import { DocumentService } from './document.service';
import { DocumentsController } from './documents.controller';
import { PDF_RENDERER } from './pdf.renderer';

/** Document templates and the documents endpoint: HTML, PDF (Chromium, started on the first PDF), DOCX and XLSX. */
@Module({
  imports: [MetadataModule, TemplatesModule, RecordsModule],
  providers: [
    {
      provide: PDF_RENDERER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new ChromiumPdfRenderer({ executablePath: config.chromiumPath }),
    },
    { provide: TAG_TEMPLATE_RENDERERS, useValue: TAG_RENDERERS },
    DocumentTemplateStore,
    DocumentService,
  ],
  controllers: [DocumentsController],
  exports: [DocumentService],
})
export class DocumentsModule {}
