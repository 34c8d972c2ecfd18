import type { Response } from 'express';
import { AppException, type FieldError } from './app.exception';

/** An RFC 9457 problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemFromException(exception: AppException, instance?: string): Problem {
  const problem: Problem = {
    type: `/problems/${exception.code}`,
    title: TITLES[exception.status] ?? 'Error',
    status: exception.status,
    detail: exception.detail,
    ...(instance ? { instance } : {}),
    ...exception.extensions,
  };
  if (exception.errors.length > 0) problem.errors = exception.errors;
  return problem;
}

export function sendProblem(res: Response, problem: Problem): void {
  if (res.headersSent) return;
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}
