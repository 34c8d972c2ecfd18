import { SetMetadata } from '@nestjs/common';

/** Metadata key set by {@link RequirePermission}. */
export const REQUIRED_PERMISSION_KEY = 'auth:required-permission';

/**
 * Declares the permission a route (or every route of a controller) needs, e.g. `'admin'` or
 * `'contacts:read'`; the global API key guard checks it. A method's declaration overrides its class's.
 * Routes whose permission depends on the request (the generic record API) check in the service instead.
 */
export const RequirePermission = (permission: string): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_PERMISSION_KEY, permission);
