import type { LoadResult } from './load.worker';

/** One measured operation: the engine and the raw baseline under the same load. */
export interface Comparison {
  name: string;
  engine: LoadResult;
  baseline: LoadResult;
}

export interface Verdict {
  line: string;
  pass: boolean;
}

const num = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value: number) => `${num(value, value < 10 ? 2 : 1)} ms`;
const pct = (value: number) => `${num(value * 100, 1)}%`;

export function comparisonTable(rows: Comparison[]): string {
  const header = ['operation', 'engine req/s', 'p50', 'p99', 'baseline req/s', 'p50', 'p99', 'engine/baseline'];
  const body = rows.map((r) => [
    r.name,
    num(r.engine.rps),
    ms(r.engine.p50),
    ms(r.engine.p99),
    num(r.baseline.rps),
    ms(r.baseline.p50),
    ms(r.baseline.p99),
    pct(r.engine.rps / r.baseline.rps),
  ]);
  return table(header, body);
}

export function errorTable(rows: Comparison[]): string {
  const describe = (r: LoadResult) => `${num(r.requests)} req, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`;
  return table(
    ['operation', 'engine', 'baseline'],
    rows.map((r) => [r.name, describe(r.engine), describe(r.baseline)]),
  );
}

/** Share of requests that failed (non-2xx or connection errors). */
export function failureShare(result: LoadResult): number {
  return (result.non2xx + result.errors) / Math.max(1, result.requests + result.errors);
}

export function verdicts(create: Comparison, list: Comparison, first: Comparison, deep: Comparison): Verdict[] {
  const createRatio = create.engine.rps / create.baseline.rps;
  const listRatio = list.engine.rps / list.baseline.rps;
  const deepP50 = deep.engine.p50 / first.engine.p50;
  const deepRps = first.engine.rps / deep.engine.rps;
  const baseDeepP50 = deep.baseline.p50 / first.baseline.p50;
  return [
    {
      line: `create throughput ${pct(createRatio)} of baseline (target >= 35%, stretch 50%: ${createRatio >= 0.5 ? 'met' : 'not met'})`,
      pass: createRatio >= 0.35,
    },
    { line: `filtered list throughput ${pct(listRatio)} of baseline (target >= 40%)`, pass: listRatio >= 0.4 },
    { line: `filtered list p99 ${ms(list.engine.p99)} (target <= 50 ms)`, pass: list.engine.p99 <= 50 },
    {
      line:
        `deep cursor page vs first page (engine): p50 ${num(deepP50, 2)}x, req/s first/deep ${num(deepRps, 2)}x ` +
        `(target <= 2x; baseline: p50 ${num(baseDeepP50, 2)}x)`,
      pass: deepP50 <= 2 && deepRps <= 2,
    },
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
