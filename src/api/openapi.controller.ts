import { Controller, Get, Header } from '@nestjs/common';
import type { OpenAPIV3_1 } from 'openapi-types';
import { Public } from '../auth/public.decorator';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { renderDocsPage } from './docs.page';
import { buildOpenApiDocument } from './openapi.builder';

export const DOCS_ASSETS_PATH = '/api/docs/assets';

/** The OpenAPI document generated from the active metadata, rebuilt once per metadata version. */
@Controller('api')
export class OpenApiController {
  private cached?: { version: number; document: OpenAPIV3_1.Document };

  constructor(private readonly registry: MetadataRegistry) {}

  @Get('openapi.json')
  document(): OpenAPIV3_1.Document {
    const snapshot = this.registry.snapshot();
    if (this.cached?.version !== snapshot.version) {
      const modules = [...snapshot.modules.values()].map((m) => m.definition);
      this.cached = { version: snapshot.version, document: buildOpenApiDocument(modules, { metadataVersion: String(snapshot.version) }) };
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
