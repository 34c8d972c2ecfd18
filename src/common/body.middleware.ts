import type { NextFunction, Request, RequestHandler, Response } from 'express';
import express from 'express';
import { Logger } from '@nestjs/common';
import { AppException } from './app.exception';
import { sendProblem } from './problem';
import { toProblem } from './problem.filter';

/** Deepest JSON nesting accepted in a request body; records are at most object → lines → row → value. */
export const MAX_BODY_DEPTH = 32;

const JSON_TYPES = ['application/json', 'application/merge-patch+json', 'application/*+json'];

/**
 * The request-body pipeline in front of every route: JSON only (415 otherwise),
 * size-limited (413), parsed strictly (400 on broken JSON) and depth-checked (400),
 * with every failure answered as problem+json.
 */
export function bodyPipeline(limitBytes: number): RequestHandler[] {
  const logger = new Logger('Body');
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(JSON_TYPES)) {
      next(
        new AppException(
          'unsupported_media_type',
          'unsupported_media_type',
          `Send the body as JSON with "Content-Type: application/json" (got "${req.headers['content-type'] ?? 'none'}").`,
        ),
      );
      return;
    }
    next();
  };
  const checkDepth: RequestHandler = (req, _res, next) => {
    if (req.body !== undefined && exceedsDepth(req.body, MAX_BODY_DEPTH)) {
      next(new AppException('bad_request', 'body_too_deep', `The JSON body is nested deeper than ${MAX_BODY_DEPTH} levels.`));
      return;
    }
    const bad = req.body === undefined ? undefined : findUnstorable(req.body);
    if (bad) {
      const where = bad.path === '' ? 'The JSON body' : `"${bad.path}"`;
      next(
        new AppException('bad_request', bad.code, `${where} ${bad.message}.`, [{ field: bad.path, code: bad.code, message: bad.message }]),
      );
      return;
    }
    next();
  };
  const onError = (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    sendProblem(res, toProblem(error, req, logger));
  };
  return [
    requireJson,
    express.json({ limit: limitBytes, strict: false, type: JSON_TYPES }),
    checkDepth,
    onError as unknown as RequestHandler,
  ];
}

/**
 * The first value JSON.parse accepted but no field can hold: a number beyond the double
 * range (parsed as Infinity, which ajv would call "not a number" and JSON.stringify turns
 * into null) or text with NUL, which PostgreSQL text and jsonb refuse. `path` reads like a
 * field error (`lines[0].price`).
 */
export function findUnstorable(value: unknown): { path: string; code: string; message: string } | undefined {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'number' && !Number.isFinite(current)) {
      return { path, code: 'number_out_of_range', message: 'is a number too large to represent (beyond ±1.7976931348623157e308)' };
    }
    if (typeof current === 'string' && current.includes('\u0000')) {
      return { path, code: 'invalid_character', message: 'contains the NUL character (\\u0000), which text cannot hold' };
    }
    if (current === null || typeof current !== 'object') continue;
    for (const [key, child] of Object.entries(current)) {
      const at = Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return { path: at, code: 'invalid_character', message: 'is a key with the NUL character (\\u0000)' };
      stack.push([child, at]);
    }
  }
  return undefined;
}

/** Iterative (not recursive), so a hostile body cannot overflow the stack. */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
