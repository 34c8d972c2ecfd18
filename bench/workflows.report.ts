import type { SqlExecutor } from '../src/database/database';
import { table } from './cards.report';
import type { LoadResult } from './load.worker';
import type { SaveRun } from './workflows.client';
import { TICKETS, WORKFLOW } from './workflows.metadata';
import { UNTRACED, type TraceDiff } from './workflows.trace';

/** The issue's target: save→done p95 on BullMQ, in ms. */
export const P95_TARGET_MS = 100;

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentiles (NaN for no values). */
export function summarize(values: number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  const mean = sorted.length === 0 ? NaN : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean, max: sorted.length === 0 ? NaN : sorted[sorted.length - 1] };
}

/** One ticket's way through the engine, in epoch ms from the database clock (null: not reached). */
export interface Timeline {
  id: string;
  inserted: number;
  runStatus: string | null;
  attempts: number | null;
  runCreated: number | null;
  runStarted: number | null;
  step0Start: number | null;
  step0End: number | null;
  step1Start: number | null;
  step1End: number | null;
  finished: number | null;
}

const ep = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** The timelines of the tickets whose name starts with `namePrefix` (one bench phase). */
export async function timelines(db: SqlExecutor, namePrefix: string): Promise<Timeline[]> {
  const rows = await db.query<Record<string, unknown>>(
    `${UNTRACED} SELECT rec.id::text AS id, ${ep('rec.created_at')} AS inserted,
            r.status AS run_status, r.attempts, ${ep('r.created_at')} AS run_created, ${ep('r.started_at')} AS run_started,
            ${ep('s0.started_at')} AS s0_start, ${ep('s0.finished_at')} AS s0_end,
            ${ep('s1.started_at')} AS s1_start, ${ep('s1.finished_at')} AS s1_end, ${ep('r.finished_at')} AS finished
       FROM records rec
       LEFT JOIN workflow_runs r ON r.record_id = rec.id AND r.workflow = $1
       LEFT JOIN workflow_steps s0 ON s0.run_id = r.id AND s0.step = 0
       LEFT JOIN workflow_steps s1 ON s1.run_id = r.id AND s1.step = 1
      WHERE rec.module = $2 AND starts_with(rec.data->>'name', $3)`,
    [WORKFLOW, TICKETS, namePrefix],
  );
  const n = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return rows.map((r) => ({
    id: String(r.id),
    inserted: Number(r.inserted),
    runStatus: (r.run_status as string | null) ?? null,
    attempts: n(r.attempts),
    runCreated: n(r.run_created),
    runStarted: n(r.run_started),
    step0Start: n(r.s0_start),
    step0End: n(r.s0_end),
    step1Start: n(r.s1_start),
    step1End: n(r.s1_end),
    finished: n(r.finished),
  }));
}

/** The segments a save→done latency is made of, each from one timestamp to the next. */
export const SEGMENTS = [
  'HTTP save (POST sent → answered)',
  'POST sent → row inserted (DB)',
  'inserted → run created (relay, outbox.event job, trigger)',
  'run created → step 1 begins',
  'step 1: updateFields',
  'step 1 done → step 2 begins',
  'step 2: createRecord',
  'step 2 done → run finished',
  'POST answered → run finished',
  'total: POST sent → run finished',
] as const;
export type Segment = (typeof SEGMENTS)[number];

export interface LatencyResult {
  /** What was run, e.g. "closed loop, 10 clients". */
  label: string;
  /** closed: clients send their next save when the last one answered (not when its run is done); paced: a fixed rate. */
  mode: 'closed' | 'paced';
  saves: number;
  /** Saves that answered 2xx. */
  ok: number;
  completed: number;
  failed: number;
  /** Runs neither completed nor failed when the bench stopped waiting (or missing). */
  unfinished: number;
  /** Saves per second the clients reached (sent → last answer). */
  saveRate: number;
  /** POST sent → run finished, over the completed runs. */
  total: Summary;
  segments: Record<Segment, Summary>;
  /** Event loop utilisation of the engine process during the phase (0..1). */
  elu: number;
  /** CPU time of the engine process per save, ms (user + system). */
  cpuPerSave: number;
  /** Of that, in the kernel (system calls: sockets to the database, Redis and the clients). */
  systemCpuPerSave: number;
  /** The engine's SQL statements and Redis commands, and the servers' CPU, per save. */
  trace: TraceDiff;
}

export function latencyResult(
  label: string,
  mode: LatencyResult['mode'],
  run: SaveRun,
  lines: Timeline[],
  extra: Pick<LatencyResult, 'elu' | 'cpuPerSave' | 'systemCpuPerSave' | 'trace'>,
): LatencyResult {
  const byId = new Map(lines.map((l) => [l.id, l]));
  const values = Object.fromEntries(SEGMENTS.map((s) => [s, [] as number[]])) as Record<Segment, number[]>;
  let completed = 0;
  let failed = 0;
  for (const sample of run.samples) {
    const t = sample.id ? byId.get(sample.id) : undefined;
    if (!t) continue;
    if (t.runStatus === 'failed') failed++;
    if (t.runStatus !== 'completed' || t.finished === null) continue;
    completed++;
    const add = (segment: Segment, from: number | null, to: number | null) => {
      if (from !== null && to !== null) values[segment].push(to - from);
    };
    add('HTTP save (POST sent → answered)', sample.start, sample.end);
    add('POST sent → row inserted (DB)', sample.start, t.inserted);
    // The outbox event is deleted once handled, so the relay's lease is not told apart from the job's pickup.
    add('inserted → run created (relay, outbox.event job, trigger)', t.inserted, t.runCreated);
    add('run created → step 1 begins', t.runCreated, t.step0Start);
    add('step 1: updateFields', t.step0Start, t.step0End);
    add('step 1 done → step 2 begins', t.step0End, t.step1Start);
    add('step 2: createRecord', t.step1Start, t.step1End);
    add('step 2 done → run finished', t.step1End, t.finished);
    add('POST answered → run finished', sample.end, t.finished);
    add('total: POST sent → run finished', sample.start, t.finished);
  }
  const ok = run.samples.filter((s) => s.id !== undefined).length;
  const segments = Object.fromEntries(SEGMENTS.map((s) => [s, summarize(values[s])])) as Record<Segment, Summary>;
  return {
    label,
    mode,
    saves: run.samples.length,
    ok,
    completed,
    failed,
    unfinished: ok - completed - failed,
    saveRate: run.samples.length / Math.max(0.001, (run.endedAt - run.startedAt) / 1000),
    total: segments['total: POST sent → run finished'],
    segments,
    ...extra,
  };
}

/** The autocannon phase: HTTP saves/s, and how the workflow runs kept up. */
export interface ThroughputResult {
  http: LoadResult;
  /** Tickets created in the phase (autocannon's warm-up included) and their runs. */
  tickets: number;
  completed: number;
  failed: number;
  unfinished: number;
  /** Runs not finished when the load stopped. */
  backlogAtStop: number;
  /** From the end of the load until the last run finished, s. */
  drainSeconds: number;
  /** Completed runs per second, first insert → last finish. */
  runsPerSecond: number;
  /** Insert → run finished, under the load (database clock). */
  underLoad: Summary;
}

export function throughputResult(http: LoadResult, lines: Timeline[], loadEnd: number): ThroughputResult {
  const done = lines.filter((l) => l.runStatus === 'completed' && l.finished !== null);
  const firstInsert = Math.min(...lines.map((l) => l.inserted));
  const lastFinish = Math.max(...done.map((l) => l.finished!));
  return {
    http,
    tickets: lines.length,
    completed: done.length,
    failed: lines.filter((l) => l.runStatus === 'failed').length,
    unfinished: lines.length - done.length - lines.filter((l) => l.runStatus === 'failed').length,
    backlogAtStop: lines.filter((l) => l.finished === null || l.finished > loadEnd).length,
    drainSeconds: Math.max(0, (lastFinish - loadEnd) / 1000),
    runsPerSecond: done.length / Math.max(0.001, (lastFinish - firstInsert) / 1000),
    underLoad: summarize(done.map((l) => l.finished! - l.inserted)),
  };
}

export interface DriverResult {
  driver: string;
  skipped?: string;
  throughput?: ThroughputResult;
  latency: LatencyResult[];
}

const num = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–';
export const ms = (value: number) => (Number.isFinite(value) ? `${num(value, Math.abs(value) < 10 ? 1 : 0)} ms` : '–');

/** The issue's table: saves/s under autocannon and save→done latency, per driver. */
export function mainTable(results: DriverResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.skipped) {
      rows.push([r.driver, 'skipped', '', '', '', '', '']);
      continue;
    }
    for (const [i, l] of r.latency.entries()) {
      rows.push([
        i === 0 ? r.driver : '',
        i === 0 && r.throughput ? num(r.throughput.http.rps) : '',
        l.label,
        ms(l.total.p50),
        ms(l.total.p95),
        ms(l.total.p99),
        `${l.completed} / ${l.failed}${l.unfinished > 0 ? ` (+${l.unfinished} unfinished)` : ''}`,
      ]);
    }
  }
  return table(['driver', 'saves/s (HTTP, -c 20)', 'save→done phase', 'p50', 'p95', 'p99', 'completed / failed'], rows);
}

/** How the runs kept up with the autocannon load. */
export function throughputTable(results: DriverResult[]): string {
  const rows = results
    .filter((r) => r.throughput)
    .map((r) => {
      const t = r.throughput!;
      return [
        r.driver,
        num(t.http.rps),
        `${ms(t.http.p50)} / ${ms(t.http.p99)}`,
        `${num(t.http.requests)} (non-2xx ${t.http.non2xx}, errors ${t.http.errors})`,
        `${num(t.tickets)}: ${num(t.completed)} / ${num(t.failed)}${t.unfinished > 0 ? ` (+${t.unfinished} unfinished)` : ''}`,
        num(t.runsPerSecond),
        `${num(t.backlogAtStop)} runs, ${num(t.drainSeconds, 1)} s`,
        `${ms(t.underLoad.p50)} / ${ms(t.underLoad.p95)}`,
      ];
    });
  return table(
    [
      'driver',
      'saves/s',
      'HTTP p50 / p99',
      'measured requests',
      'tickets: runs completed / failed',
      'runs done/s',
      'backlog at stop, drained in',
      'insert→done p50 / p95',
    ],
    rows,
  );
}

/** Where the time of a save→done goes: p50 and p95 of each segment, per driver and phase. */
export function segmentTable(results: DriverResult[]): string {
  const columns = results.flatMap((r) => r.latency.map((l) => ({ name: `${r.driver}, ${l.label}`, l })));
  const header = ['segment (ms)', ...columns.map((c) => `${c.name} p50 / p95`)];
  const rows = SEGMENTS.map((s) => [s, ...columns.map((c) => `${ms(c.l.segments[s].p50)} / ${ms(c.l.segments[s].p95)}`)]);
  rows.push(['saves/s reached by the clients', ...columns.map((c) => num(c.l.saveRate))]);
  rows.push(['engine event loop utilisation', ...columns.map((c) => `${num(c.l.elu * 100)}%`)]);
  rows.push([
    'CPU per save: engine (system) / PostgreSQL (background) / Redis',
    ...columns.map(
      (c) =>
        `${ms(c.l.cpuPerSave)} (${ms(c.l.systemCpuPerSave)}) / ${ms(c.l.trace.postgresCpuPerSave ?? NaN)} (${ms(c.l.trace.postgresBackgroundCpuPerSave ?? NaN)})` +
        ` / ${ms(c.l.trace.redisCpuPerSave ?? NaN)}`,
    ),
  ]);
  rows.push(['SQL statements per save (engine)', ...columns.map((c) => num(c.l.trace.sqlPerSave, 1))]);
  rows.push([
    'Redis commands / round trips per save (engine)',
    ...columns.map((c) =>
      c.l.trace.redisPerSave > 0 ? `${num(c.l.trace.redisPerSave, 1)} / ${num(c.l.trace.redisTripsPerSave, 1)}` : '–',
    ),
  ]);
  return table(header, rows);
}

/** The most frequent SQL statements and Redis commands per save, per driver and phase. */
export function traceLines(results: DriverResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    for (const l of r.latency) {
      lines.push(`${r.driver}, ${l.label}: SQL per save: ${l.trace.topSql}`);
      if (l.trace.topRedis) lines.push(`${r.driver}, ${l.label}: Redis per save: ${l.trace.topRedis}`);
    }
  }
  return lines;
}
