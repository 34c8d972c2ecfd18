import type { LoadResult } from './load.worker';
import type { PipelineResult } from './cards.pipeline';

/** The target: what 20 formulas and 20 rules may add to one save, median, in ms. */
export const ADDED_COST_TARGET_MS = 1;

const num = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const ms = (value: number) => `${num(value, Math.abs(value) < 10 ? 3 : 1)} ms`;
const pct = (value: number) => `${num(value * 100, 1)}%`;

export function pipelineTable(rows: PipelineResult[]): string {
  return table(
    ['prepareWrite per call', 'plain p50', 'plain p95', 'rich p50', 'rich p95', 'added p50 (rich-plain)', 'added p95', 'added mean'],
    rows.map((r) => [
      r.name,
      ms(r.plain.median),
      ms(r.plain.p95),
      ms(r.rich.median),
      ms(r.rich.p95),
      ms(r.rich.median - r.plain.median),
      ms(r.rich.p95 - r.plain.p95),
      ms(r.rich.mean - r.plain.mean),
    ]),
  );
}

export interface HttpRow {
  name: string;
  plain: LoadResult;
  rich: LoadResult;
}

export function httpTable(rows: HttpRow[]): string {
  return table(
    ['HTTP (autocannon)', 'plain req/s', 'p50', 'p99', 'rich req/s', 'p50', 'p99', 'rich/plain req/s', 'added per req (from req/s)'],
    rows.map((r) => [
      r.name,
      num(r.plain.rps),
      ms(r.plain.p50),
      ms(r.plain.p99),
      num(r.rich.rps),
      ms(r.rich.p50),
      ms(r.rich.p99),
      pct(r.rich.rps / r.plain.rps),
      // Server time per request, from throughput: what the rich module costs the (saturated) server.
      ms(1000 / r.rich.rps - 1000 / r.plain.rps),
    ]),
  );
}

export function errorTable(rows: HttpRow[]): string {
  const codes = (r: LoadResult) => (r.non2xx > 0 ? ` ${JSON.stringify(r.statusCodes)}` : '');
  const describe = (r: LoadResult) => `${num(r.requests)} req, non-2xx ${r.non2xx}${codes(r)}, errors ${r.errors}, timeouts ${r.timeouts}`;
  return table(
    ['HTTP run', 'plain', 'rich'],
    rows.map((r) => [r.name, describe(r.plain), describe(r.rich)]),
  );
}

/** Share of requests that failed (non-2xx or connection errors). */
export function failureShare(result: LoadResult): number {
  return (result.non2xx + result.errors) / Math.max(1, result.requests + result.errors);
}

/** Several measured runs of one operation as one: requests over total time; latencies averaged over the runs. */
export function combine(runs: LoadResult[]): LoadResult {
  const sum = (pick: (r: LoadResult) => number) => runs.reduce((s, r) => s + pick(r), 0);
  const avg = (pick: (r: LoadResult) => number) => sum(pick) / runs.length;
  const statusCodes: Record<string, number> = {};
  for (const run of runs) for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  return {
    requests: sum((r) => r.requests),
    rps: sum((r) => r.requests) / sum((r) => (r.rps > 0 ? r.requests / r.rps : 0)),
    p50: avg((r) => r.p50),
    p99: avg((r) => r.p99),
    mean: avg((r) => r.mean),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
  };
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
