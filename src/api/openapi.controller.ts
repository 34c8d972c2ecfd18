import { Controller, Get, Header } from '@nestjs/common';
import type { OpenAPIV3_1 } from 'openapi-types';
import { Public } from '../auth/public.decorator';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { renderDocsPage } from './docs.page';
import type { DocumentFormatName, DocumentTemplateSummary } from './openapi-documents';
import { buildOpenApiDocument } from './openapi.builder';

export const DOCS_ASSETS_PATH = '/api/docs/assets';

/** The OpenAPI document generated from the active metadata (modules, document templates, tools), rebuilt once per metadata version. */
@Controller('api')
export class OpenApiController {
  private cached?: { version: number; document: OpenAPIV3_1.Document };

  constructor(private readonly registry: MetadataRegistry) {}

  @Get('openapi.json')
  document(): OpenAPIV3_1.Document {
    const snapshot = this.registry.snapshot();
    if (this.cached?.version !== snapshot.version) {
      const modules = [...snapshot.modules.values()].map((m) => m.definition);
      const documentTemplates = new Map<string, DocumentTemplateSummary[]>();
      for (const template of snapshot.documentTemplates.values()) {
        const formats: DocumentFormatName[] = ['html', 'pdf'];
        if (template.binaries.docx) formats.push('docx');
        if (template.binaries.xlsx) formats.push('xlsx');
        documentTemplates.set(template.module, [...(documentTemplates.get(template.module) ?? []), { name: template.name, formats }]);
      }
      const tools = new Map([...snapshot.tools].map(([module, byName]) => [module, [...byName.values()].map((tool) => tool.definition)]));
      this.cached = {
        version: snapshot.version,
        document: buildOpenApiDocument(modules, { metadataVersion: String(snapshot.version), documentTemplates, tools }),
      };
    }
    return this.cached.document;
  }

  /** The Swagger UI shell holds no data: it asks for an API key, then loads the document with it. */
  @Get('docs')
  @Public()
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    return renderDocsPage({ specUrl: '/api/openapi.json', assetsPath: DOCS_ASSETS_PATH });
  }
}
