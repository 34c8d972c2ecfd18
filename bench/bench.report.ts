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

/** The targets, for whichever of the operations were measured. */
export function verdicts(runs: { create?: Comparison; list?: Comparison; first?: Comparison; deep?: Comparison }): Verdict[] {
  const { create, list, first, deep } = runs;
  const result: Verdict[] = [];
  if (create) {
    const ratio = create.engine.rps / create.baseline.rps;
    result.push({
      line: `create throughput ${pct(ratio)} of baseline (target >= 35%, stretch 50%: ${ratio >= 0.5 ? 'met' : 'not met'})`,
      pass: ratio >= 0.35,
    });
  }
  if (list) {
    const ratio = list.engine.rps / list.baseline.rps;
    result.push({ line: `filtered list throughput ${pct(ratio)} of baseline (target >= 40%)`, pass: ratio >= 0.4 });
    result.push({ line: `filtered list p99 ${ms(list.engine.p99)} (target <= 50 ms)`, pass: list.engine.p99 <= 50 });
  }
  if (first && deep) {
    const p50 = deep.engine.p50 / first.engine.p50;
    const rps = first.engine.rps / deep.engine.rps;
    result.push({
      line:
        `deep cursor page vs first page (engine): p50 ${num(p50, 2)}x, req/s first/deep ${num(rps, 2)}x ` +
        `(target <= 2x; baseline: p50 ${num(deep.baseline.p50 / first.baseline.p50, 2)}x)`,
      pass: p50 <= 2 && rps <= 2,
    });
  }
  return result;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
