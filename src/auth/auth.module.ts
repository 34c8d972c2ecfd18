import { Inject, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyService } from './api-key.service';
import { ApiKeysController } from './api-keys.controller';

/**
 * API keys: the admin API, the global guard that authenticates every request, and the bootstrap
 * admin key. Needs the global `DATABASE` and `APP_CONFIG` providers, and the `api_keys` table to be
 * migrated before application bootstrap.
 */
@Module({
  controllers: [ApiKeysController],
  providers: [ApiKeyRepository, ApiKeyService, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [ApiKeyService],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthModule.name);

  constructor(
    private readonly apiKeys: ApiKeyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const generated = await this.apiKeys.ensureBootstrapKey(this.config.adminApiKey);
    if (generated !== undefined) {
      this.logger.warn(
        `Generated the bootstrap admin API key: ${generated} — store it now, it will not be shown again. ` +
          'Set ADMIN_API_KEY to choose the admin key yourself.',
      );
    }
  }
}
