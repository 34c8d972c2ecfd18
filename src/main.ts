import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { ConfigException, loadConfig } from './config/app.config';
import { MetadataBootException } from './metadata/metadata.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port);
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}`;
  new Logger('Main').log(`Listening on http://localhost:${config.port} (database: ${where}); API docs at /api/docs`);
}

main().catch((error: unknown) => {
  // Configuration and metadata problems are the operator's to fix: print them plainly, without a stack.
  if (error instanceof ConfigException || error instanceof MetadataBootException) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
