import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { MetadataModule } from '../metadata/metadata.module';
import { HandlebarsEnvironment } from './handlebars.environment';
import { readTranslations } from './template-files';
import { TemplateStore } from './template.store';

/**
 * The one Handlebars environment (with the translations of `metadata/translations/`) and the email templates, which
 * come from the metadata registry.
 */
@Module({
  imports: [MetadataModule],
  providers: [
    {
      provide: HandlebarsEnvironment,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => new HandlebarsEnvironment(await readTranslations(config.rootDir)),
    },
    TemplateStore,
  ],
  exports: [HandlebarsEnvironment, TemplateStore],
})
export class TemplatesModule {}
