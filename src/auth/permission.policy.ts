import { AppException } from '../common/app.exception';
import { RequestContext } from '../common/request-context';

/** The methods a permission can grant on a module. */
export const PERMISSION_METHODS = ['read', 'create', 'update', 'delete'] as const;

/** A permission's method part. */
export type PermissionMethod = (typeof PERMISSION_METHODS)[number];

/** The permission that implies every other one. */
export const ADMIN_PERMISSION = 'admin';

// `*` as the module grants the method on every module; there is no `<module>:*` shorthand.
const PERMISSION_PATTERN = /^(?:[a-z][a-z0-9_]{0,47}|\*):(?:read|create|update|delete)$/;

/** Whether `permission` is `admin` or `<module>:<read|create|update|delete>` (module may be `*`). */
export function isValidPermission(permission: string): boolean {
  return permission === ADMIN_PERMISSION || PERMISSION_PATTERN.test(permission);
}

/**
 * Whether the actor holds `permission`: directly, through `admin` (which implies everything), or
 * through the wildcard `*:<method>` for a module permission.
 */
export function hasPermission(ctx: RequestContext, permission: string): boolean {
  const granted = ctx.permissions;
  if (granted.has(ADMIN_PERMISSION) || granted.has(permission)) return true;
  const colon = permission.indexOf(':');
  return colon > 0 && granted.has(`*${permission.slice(colon)}`);
}

/** Throws a 403 `permission_denied` {@link AppException} unless the actor holds `permission`. */
export function assertPermission(ctx: RequestContext, permission: string): void {
  if (!hasPermission(ctx, permission)) {
    throw new AppException('forbidden', 'permission_denied', `This API key lacks the permission "${permission}"`, [], {
      permission,
    });
  }
}
