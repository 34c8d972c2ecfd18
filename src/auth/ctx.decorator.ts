import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RequestContext } from '../common/request-context';

/** The HTTP request as the auth layer sees it: the guard adds `context`. */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  context?: RequestContext;
}

/**
 * Injects the {@link RequestContext} the API key guard attached to the request.
 * Only for authenticated routes: on a `@Public()` route there is no context, and using it there is a bug.
 */
export const Ctx = createParamDecorator((_data: unknown, execution: ExecutionContext): RequestContext => {
  const context = execution.switchToHttp().getRequest<AuthenticatedRequest>().context;
  if (!context) throw new Error('@Ctx() used on a route without an authenticated request context (is it @Public()?)');
  return context;
});
