import {
  clockBindings,
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  ExpressionEvaluationError,
  ExpressionLimitError,
  expressionReads,
  ExpressionSyntaxError,
} from './jsonata.runner';

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the evaluation to fail');
}

function syntaxError(source: string): ExpressionSyntaxError {
  try {
    compileExpression(source);
  } catch (error) {
    if (error instanceof ExpressionSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error in ${source}`);
}

/** Runs `work` while a 1 ms interval and a 20 ms timeout wait, to see whether the event loop got turns. */
async function whileTimersWait(
  work: () => Promise<unknown>,
): Promise<{ ticks: number; timeoutFired: boolean; elapsed: number; outcome: unknown }> {
  let ticks = 0;
  let timeoutFired = false;
  const interval = setInterval(() => ticks++, 1);
  const timeout = setTimeout(() => (timeoutFired = true), 20);
  const started = Date.now();
  const outcome = await work().catch((error: unknown) => error);
  const result = { ticks, timeoutFired, elapsed: Date.now() - started, outcome };
  clearInterval(interval);
  clearTimeout(timeout);
  return result;
}

const TAIL_LOOP = '($f := function($n){ $f($n + 1) }; $f(0))';
const DEEP_RECURSION = '($f := function($n){ 1 + $f($n + 1) }; $f(0))';

describe('compileExpression', () => {
  it('shares one compiled object per source text', () => {
    const first = compileExpression('a + b');
    expect(compileExpression('a + b')).toBe(first);
    expect(compileExpression('a + b ')).not.toBe(first);
  });

  it('keeps the cache bounded, dropping the least recently used source', () => {
    const oldest = compileExpression('"evicted first"');
    const kept = compileExpression('"kept"');
    for (let i = 0; i < 5000; i++) {
      compileExpression(`${i} + 1`);
      if (i % 1000 === 0) compileExpression('"kept"'); // touched: moves to the young end
    }
    expect(compileExpression('"kept"')).toBe(kept);
    expect(compileExpression('"evicted first"')).not.toBe(oldest);
  });

  it.each([
    ['a +', 1, 4, 'Unexpected end of expression'],
    ['(1', 1, 3, 'Expected ")" before end of expression'],
    ['a = = b', 1, 5, 'The symbol "=" cannot be used as a unary operator'],
    ['status = "sent" and\n  total > ]', 2, 11, 'The symbol "]" cannot be used as a unary operator'],
    ['\n\n  $$$ 1', 3, 7, 'unexpected 1'],
  ])('reports where %j fails to parse', (source, line, column, reason) => {
    const error = syntaxError(source);
    expect(error).toMatchObject({ line, column, reason, code: 'expression_syntax', kind: 'validation' });
    expect(error.position).toBe(
      source
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length +
        (line > 1 ? 1 : 0) +
        column -
        1,
    );
    expect(error.message).toBe(`syntax error at line ${line}, column ${column}: ${reason}`);
  });
});

describe('CompiledExpression.evaluate', () => {
  it('evaluates against the input with bindings', async () => {
    const total = compileExpression('$sum(lines.(quantity * price)) * (1 + $vat)');
    const record = {
      lines: [
        { quantity: 2, price: 10 },
        { quantity: 1, price: 5 },
      ],
    };
    await expect(total.evaluate(record, { vat: 0.25 })).resolves.toBe(31.25);
  });

  it('fixes $now() and $millis() to the clock it is given', async () => {
    const clock = clockBindings(new Date('2025-03-04T05:06:07.089Z'));
    await expect(compileExpression('$now()').evaluate({}, clock)).resolves.toBe('2025-03-04T05:06:07.089Z');
    await expect(compileExpression('$millis()').evaluate({}, clock)).resolves.toBe(Date.parse('2025-03-04T05:06:07.089Z'));
    await expect(compileExpression('$now("[Y0001]-[M01]-[D01]")').evaluate({}, clock)).resolves.toBe('2025-03-04');
  });

  it('gives $now() one instant per evaluation when no clock is bound', async () => {
    const [first, second] = (await compileExpression('[$now(), $now()]').evaluate({})) as string[];
    expect(first).toBe(second);
    expect(Math.abs(Date.parse(first) - Date.now())).toBeLessThan(1000);
  });

  it('turns jsonata type errors into ExpressionEvaluationError with a position', async () => {
    const error = await failure(compileExpression('total +\n  name').evaluate({ total: 1, name: 'x' }));
    expect(error).toBeInstanceOf(ExpressionEvaluationError);
    expect(error).toMatchObject({ jsonataCode: 'T2002', position: 6, code: 'expression_failed' });
    expect((error as Error).message).toMatch(/^expression failed at line 1, column 7: .*right side of the "\+" operator/);
  });

  it('turns errors raised inside built-in functions into ExpressionEvaluationError', async () => {
    const error = await failure(compileExpression('$number(code)').evaluate({ code: 'abc' }));
    expect(error).toBeInstanceOf(ExpressionEvaluationError);
    expect(error).toMatchObject({ jsonataCode: 'D3030' });
  });

  it('lets errors thrown by bound functions through unchanged', async () => {
    const boom = new Error('related record missing');
    const error = await failure(
      compileExpression('$related("account")').evaluate(
        {},
        {
          related: () => {
            throw boom;
          },
        },
      ),
    );
    expect(error).toBe(boom);
  });
});

describe('guardrails', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_EXPRESSION_LIMITS).toEqual({ timeout: 100, depth: 200, sequence: 10_000, size: 100_000 });
  });

  it('stops a runaway loop at the timeout while timers keep firing', async () => {
    const { ticks, timeoutFired, elapsed, outcome } = await whileTimersWait(() => compileExpression(TAIL_LOOP).evaluate({}));
    expect(outcome).toBeInstanceOf(ExpressionLimitError);
    expect(outcome).toMatchObject({ limit: 'timeout', message: 'the expression ran longer than 100 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1000);
    // Both fired before the evaluation ended: the loop got turns during it, not one at the end.
    expect(timeoutFired).toBe(true);
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it.each([['$sum([1..9999999].($ * 2))'], ['$reduce([1..5000000], function($a, $b){ $a + $b })']])(
    'stops the tight loop %s within a second',
    async (source) => {
      const { elapsed, outcome } = await whileTimersWait(() => compileExpression(source).evaluate({}, {}, { sequence: Infinity }));
      expect(outcome).toMatchObject({ limit: 'timeout' });
      expect(elapsed).toBeLessThan(1000);
    },
  );

  it('stops runaway recursion at the depth limit', async () => {
    const outcome = await failure(compileExpression(DEEP_RECURSION).evaluate({}));
    expect(outcome).toBeInstanceOf(ExpressionLimitError);
    expect(outcome).toMatchObject({ limit: 'depth' });
    expect((outcome as Error).message).toContain('deeper than 200 evaluation steps');
  });

  it('allows bounded recursion', async () => {
    const factorial = compileExpression('($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(20))');
    await expect(factorial.evaluate({})).resolves.toBe(2432902008176640000);
  });

  it.each([['[1..20000]'], ['$count([1..10001])'], ['$count(items.($ + 1))']])('stops %s at the sequence limit', async (source) => {
    const items = Array.from({ length: 10_001 }, (_, i) => i);
    const outcome = await failure(compileExpression(source).evaluate({ items }));
    expect(outcome).toBeInstanceOf(ExpressionLimitError);
    expect(outcome).toMatchObject({ limit: 'sequence', message: 'the expression built a sequence of more than 10000 items' });
  });

  it('checks the length of arrays that functions return', async () => {
    const outcome = await failure(compileExpression('$split(text, "")').evaluate({ text: 'x'.repeat(10_001) }));
    expect(outcome).toMatchObject({ limit: 'sequence', message: 'the result has 10001 items; at most 10000 are allowed' });
  });

  it('stops results larger than the size limit', async () => {
    const outcome = await failure(compileExpression('$pad("", 100001, "x")').evaluate({}));
    expect(outcome).toBeInstanceOf(ExpressionLimitError);
    expect(outcome).toMatchObject({ limit: 'size' });
    const rows = Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(50) }));
    await expect(compileExpression('rows').evaluate({ rows }, {}, { sequence: Infinity })).rejects.toMatchObject({ limit: 'size' });
    await expect(compileExpression('$pad("", 1000, "x")').evaluate({}, {}, { size: 999 })).rejects.toMatchObject({ limit: 'size' });
    await expect(compileExpression('$pad("", 1000, "x")').evaluate({})).resolves.toHaveLength(1000);
  });

  it('takes per-evaluation limits', async () => {
    await expect(compileExpression('[1..50]').evaluate({}, {}, { sequence: 49 })).rejects.toMatchObject({ limit: 'sequence' });
    await expect(compileExpression('$count([1..20000])').evaluate({}, {}, { sequence: 20_000 })).resolves.toBe(20_000);
  });

  it('keeps the limits of concurrent evaluations of one expression apart', async () => {
    const loop = compileExpression(TAIL_LOOP);
    const started = Date.now();
    const [short, long] = await Promise.all([
      failure(loop.evaluate({}, {}, { timeout: 50 })).then((error) => ({ error, at: Date.now() - started })),
      failure(loop.evaluate({}, {}, { timeout: 300 })).then((error) => ({ error, at: Date.now() - started })),
    ]);
    expect(short.error).toMatchObject({ limit: 'timeout', message: 'the expression ran longer than 50 ms' });
    expect(long.error).toMatchObject({ limit: 'timeout', message: 'the expression ran longer than 300 ms' });
    expect(short.at).toBeLessThan(long.at);
    expect(long.at).toBeGreaterThanOrEqual(290);
  });

  it('gives each of two interleaved evaluations its own start time and depth', async () => {
    // 40 levels of non-tail recursion (~3 steps each: over half the depth limit), then a spin of some 100 ms at
    // the bottom, during which the two evaluations take turns. Shared depth would exceed 200.
    const source = `($spin := function($n){ $n > 0 ? $spin($n - 1) : 0 };
      $deep := function($d){ $d = 0 ? $spin(5000) : 1 + $deep($d - 1) }; $deep(40))`;
    const expression = compileExpression(source);
    const limits = { timeout: 5000 };
    const alone = Date.now();
    await expect(expression.evaluate({}, {}, limits)).resolves.toBe(40);
    const single = Date.now() - alone;
    const later = new Promise((resolve) => setTimeout(resolve, single / 3)).then(() => expression.evaluate({}, {}, limits));
    await expect(Promise.all([expression.evaluate({}, {}, limits), later])).resolves.toEqual([40, 40]);
  });
});

describe('expressionReads', () => {
  it.each<[string, string[]]>([
    ['status = "sent"', ['status']],
    ['$sum(lines.(quantity * price * (1 - discount / 100)))', ['lines']],
    ['$record.total - $old.total', ['total']],
    ['$$.a + $.b', ['a', 'b']],
    ['lines[price > min_price].amount', ['lines']],
    ['items^(price)', ['items']],
    ['due_date ? due_date : created', ['due_date', 'created']],
    ['{"x": a, "y": [b, -c]}', ['a', 'b', 'c']],
    ['($f := function($l){ $l.price * rate }; $map(lines, $f))', ['rate', 'lines']],
    ['lines@$l.$l.price * factor', ['lines', 'factor']],
    ['account ~> $uppercase()', ['account']],
    ['$x.y', []],
    ['$related("account").name', []],
    ['lines{kind: $sum(price)}', ['lines']],
  ])('%s reads %j', (source, fields) => {
    expect(expressionReads(source)).toEqual(fields);
  });

  it('rejects sources that do not parse', () => {
    expect(() => expressionReads('a +')).toThrow(ExpressionSyntaxError);
  });
});
