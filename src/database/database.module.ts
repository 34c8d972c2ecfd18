import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { DATABASE } from './database';
import { TypeormDatabase } from './typeorm.database';

/** Provides the {@link DATABASE} port to every module; opened (and migrated) before anything else starts. */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => TypeormDatabase.open(config),
    },
  ],
  exports: [DATABASE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: TypeormDatabase) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
