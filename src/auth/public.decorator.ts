import { SetMetadata } from '@nestjs/common';

/** Metadata key set by {@link Public}. */
export const IS_PUBLIC_KEY = 'auth:public';

/**
 * Marks a route (or a whole controller) as reachable without an API key, e.g. health checks and the
 * OpenAPI document. Everything else requires `Authorization: Bearer <key>`.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
