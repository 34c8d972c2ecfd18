import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { AppException, STATUS_BY_KIND, type ErrorKind } from './app.exception';
import { problemFromException, sendProblem, type Problem } from './problem';

/**
 * Turns every error into RFC 9457 problem+json: {@link AppException}s keep their
 * status and code, Nest's own HTTP exceptions (unknown route, ...) keep their
 * status, and anything else is logged and answered with a 500 that leaks nothing.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Problem');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const problem = toProblem(exception, req, this.logger);
    if (problem.status === 405) res.setHeader('Allow', allowedMethods(req).join(', '));
    sendProblem(res, problem);
  }
}

export function toProblem(exception: unknown, req: Request, logger: Logger): Problem {
  const instance = req.originalUrl?.split('?')[0];
  if (exception instanceof AppException) return problemFromException(exception, instance);
  const bodyParserProblem = fromBodyParser(exception);
  if (bodyParserProblem) return problemFromException(bodyParserProblem, instance);
  const databaseProblem = fromDatabase(exception);
  if (databaseProblem) return problemFromException(databaseProblem, instance);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) {
      // The path is routed, only not for this method: 405 with Allow (RFC 9110), not "no such route".
      const allowed = allowedMethods(req);
      if (allowed.length > 0 && !allowed.includes(req.method)) {
        const detail = `${req.method} is not allowed on ${instance}; use ${allowed.join(', ')}.`;
        return { type: 'about:blank', title: STATUS_CODES[405]!, status: 405, detail, instance };
      }
    }
    const detail = status === 404 ? `No route ${req.method} ${instance}. See /api/docs for the endpoints.` : exception.message;
    // For about:blank the title is the status phrase (RFC 9457 §4.2.1), not the exception class.
    return { type: 'about:blank', title: STATUS_CODES[status] ?? exception.name, status, detail, instance };
  }
  logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return {
    type: '/problems/internal_error',
    title: 'Internal Server Error',
    status: 500,
    detail: 'The server failed to handle the request; the error is logged.',
    instance,
  };
}

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  matchers?: Array<(path: string) => unknown>;
}

/** The methods the app routes for this request's path (Express's router stack), HEAD with GET. */
function allowedMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouteLayer[] } })?.router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || !layer.matchers?.some((match) => matches(match, req.path))) continue;
    for (const method of Object.keys(layer.route.methods)) if (method !== '_all') methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods];
}

function matches(match: (path: string) => unknown, path: string): boolean {
  try {
    return Boolean(match(path));
  } catch {
    return false; // a path that does not decode matches no route
  }
}

/** body-parser errors carry `type` and `status`; give them codes and clear words. */
function fromBodyParser(error: unknown): AppException | undefined {
  const e = error as { type?: string; status?: number; message?: string; limit?: number };
  switch (e?.type) {
    case 'entity.parse.failed':
      return new AppException('bad_request', 'malformed_json', `The request body is not valid JSON: ${e.message}`);
    case 'entity.too.large':
      return new AppException('payload_too_large', 'body_too_large', `The request body is larger than the limit of ${e.limit} bytes.`);
    case 'encoding.unsupported': {
      // body-parser reports an unknown charset as charset.unsupported; this one is the Content-Encoding.
      const encoding = (error as { encoding?: string }).encoding;
      return new AppException(
        'unsupported_media_type',
        'unsupported_content_encoding',
        `The Content-Encoding${encoding ? ` "${encoding}"` : ''} is not supported; send the body uncompressed, or as gzip, deflate or br.`,
      );
    }
    case 'charset.unsupported':
      return new AppException('unsupported_media_type', 'unsupported_charset', `${e.message ?? 'Unsupported charset'}; send UTF-8.`);
    case 'request.aborted':
      return new AppException('bad_request', 'request_aborted', 'The client aborted the request.');
    default: {
      // Any other client error reading the body (one that does not decompress as its Content-Encoding
      // says, a length that does not match Content-Length): http-errors marks it `expose`, keep its 4xx.
      const kind = (Object.keys(STATUS_BY_KIND) as ErrorKind[]).find((k) => STATUS_BY_KIND[k] === e?.status);
      if (!kind || !(error as { expose?: unknown }).expose || e.status! >= 500) return undefined;
      const cause = e.message && e.message !== STATUS_CODES[e.status!] ? ` (${e.message})` : '';
      return new AppException(
        kind,
        'unreadable_body',
        `The request body could not be read${cause}: send it encoded as its Content-Encoding says, and as long as its Content-Length says.`,
      );
    }
  }
}

/**
 * A value PostgreSQL refuses (SQLSTATE class 22, data exception: bad number,
 * bad date, out of range) comes from the request: a 400, not a 500. Input is
 * validated before it reaches SQL; this is the net under that.
 */
function fromDatabase(error: unknown): AppException | undefined {
  const code = (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ?? (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
    return new AppException(
      'bad_request',
      'invalid_value',
      `A value in the request is not valid for its field: ${(error as Error).message}`,
    );
  }
  return undefined;
}
