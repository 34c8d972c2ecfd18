import { AppException } from '../common/app.exception';

/** Where in an expression's source something went wrong: 0-based offset, 1-based line and column. */
export interface SourceLocation {
  position: number;
  line: number;
  column: number;
}

/**
 * A jsonata expression that does not parse. `position` is the 0-based offset of the offending
 * token, `line`/`column` are 1-based, so editors and metadata problems can point at it.
 */
export class ExpressionSyntaxError extends AppException {
  readonly position: number;
  readonly line: number;
  readonly column: number;

  constructor(
    readonly source: string,
    /** jsonata's own error code, e.g. `S0203`. */
    readonly jsonataCode: string,
    readonly reason: string,
    readonly location: SourceLocation,
  ) {
    super('validation', 'expression_syntax', `syntax error at line ${location.line}, column ${location.column}: ${reason}`, [], {
      jsonataCode,
      ...location,
    });
    this.position = location.position;
    this.line = location.line;
    this.column = location.column;
  }
}

/** A jsonata expression that failed while running, e.g. `T2001` (arithmetic on a string) or `D3030`. */
export class ExpressionEvaluationError extends AppException {
  readonly position: number | undefined;

  constructor(
    readonly jsonataCode: string,
    readonly reason: string,
    /** Undefined when jsonata did not say where (errors raised inside built-in functions). */
    readonly location: SourceLocation | undefined,
  ) {
    super(
      'validation',
      'expression_failed',
      location ? `expression failed at line ${location.line}, column ${location.column}: ${reason}` : `expression failed: ${reason}`,
      [],
      { jsonataCode, ...location },
    );
    this.position = location?.position;
  }
}

/** Which guardrail stopped an evaluation; the names match the keys of `ExpressionLimits`. */
export type ExpressionLimitKind = 'timeout' | 'depth' | 'sequence' | 'size';

/** An evaluation stopped by a guardrail (time, nesting depth, sequence length, result size). */
export class ExpressionLimitError extends AppException {
  constructor(
    readonly limit: ExpressionLimitKind,
    message: string,
  ) {
    super('validation', 'expression_limit', message, [], { limit });
  }
}
