import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { Duplex } from 'node:stream';
import { DOCS_ASSETS_PATH } from './api/openapi.controller';
import { swaggerUiAssetsDir } from './api/docs.page';
import { bodyPipeline } from './common/body.middleware';
import { ProblemFilter } from './common/problem.filter';
import type { INestApplicationContext } from '@nestjs/common';
import { ConfigException, type AppConfig } from './config/app.config';
import { AppModule } from './app.module';

/** Builds the HTTP application (not yet listening); used by `main.ts` and by the tests. */
export async function createApp(config: AppConfig, options: { logger?: false } = {}): Promise<NestExpressApplication> {
  if (config.processRole === 'worker') {
    throw new ConfigException([
      'PROCESS_ROLE=worker runs no HTTP server: start it with `npm run start:worker` (or use PROCESS_ROLE=all or api)',
    ]);
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    abortOnError: false,
    logger: options.logger ?? [config.logLevel, ...higherLevels(config.logLevel)],
  });
  app.disable('x-powered-by');
  // Records carry their own ETag (the version); hashing every list body for one would be wasted work.
  app.set('etag', false);
  app.use(DOCS_ASSETS_PATH, express.static(swaggerUiAssetsDir(), { index: false, fallthrough: false }));
  for (const handler of bodyPipeline(config.bodyLimitBytes)) app.use(handler);
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  // Node answers a malformed request or over-long headers itself, before Express runs; keep those problem+json too.
  app.getHttpServer().on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const detail = status === 431 ? 'The request headers (or the URL) are too large.' : 'The request is not valid HTTP.';
    const body = JSON.stringify({
      type: '/problems/bad_http_request',
      title: status === 431 ? 'Request Header Fields Too Large' : 'Bad Request',
      status,
      detail,
    });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  try {
    await app.init();
  } catch (error) {
    // A failed start (e.g. invalid metadata) must still release the database.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/**
 * Builds the engine without HTTP, for a queue worker process (`worker.ts`): the same modules, so
 * every job handler is registered, and the queue starts its worker at bootstrap.
 */
export async function createWorkerContext(config: AppConfig, options: { logger?: false } = {}): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    abortOnError: false,
    logger: options.logger ?? [config.logLevel, ...higherLevels(config.logLevel)],
  });
  try {
    await app.init();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

function higherLevels(level: AppConfig['logLevel']): Array<AppConfig['logLevel'] | 'fatal'> {
  const order: Array<AppConfig['logLevel'] | 'fatal'> = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  return order.slice(0, order.indexOf(level));
}
