import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../common/app.exception';
import { ApiKeyService } from './api-key.service';
import { AuthenticatedRequest } from './ctx.decorator';
import { assertPermission } from './permission.policy';
import { IS_PUBLIC_KEY } from './public.decorator';
import { REQUIRED_PERMISSION_KEY } from './require-permission.decorator';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

interface HeaderWritable {
  setHeader(name: string, value: string): unknown;
}

/**
 * The global guard (registered as APP_GUARD by the auth module): every route needs a valid API key
 * unless marked `@Public()`, and `@RequirePermission(...)` routes need that permission too.
 * On success the request carries its {@link RequestContext} as `request.context` (see `@Ctx()`).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const targets = [execution.getHandler(), execution.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;

    const http = execution.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    try {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? BEARER.exec(header) : null;
      if (!match) {
        throw new AppException(
          'unauthorized',
          'missing_api_key',
          header === undefined
            ? 'This endpoint needs an API key. Send it in the Authorization header: "Authorization: Bearer <key>".'
            : 'The Authorization header is malformed. Send it as "Authorization: Bearer <key>".',
        );
      }
      request.context = await this.apiKeys.authenticate(match[1]);
    } catch (error) {
      // RFC 6750: a 401 tells the client which scheme to use.
      if (error instanceof AppException && error.kind === 'unauthorized') {
        http.getResponse<HeaderWritable>().setHeader('WWW-Authenticate', 'Bearer realm="api"');
      }
      throw error;
    }

    const permission = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_PERMISSION_KEY, targets);
    if (permission !== undefined) assertPermission(request.context, permission);
    return true;
  }
}
