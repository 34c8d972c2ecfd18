/**
 * `npm run bench:workflows`: saves that trigger a two-action workflow — how many per second, and how
 * long from the save until its run is done — on the in-process queue and on BullMQ, in one run.
 *
 * Starts the engine twice in turn, with the in-process job queue and with BullMQ (REDIS_URL, default
 * redis://127.0.0.1:6379), each on PostgreSQL when DATABASE_URL is set (schema bench_workflows_<driver>,
 * dropped before and after, and its BullMQ queue removed) or on in-memory PGlite otherwise. Each
 * engine gets two small modules, `bench_tickets` and `bench_notes`, and the workflow
 * `bench_two_actions` (on create: updateFields on the ticket, then createRecord of a note linked back),
 * published through the admin API. Then, per driver:
 *
 * 1. throughput: POST creates of tickets with autocannon (BENCH_CONNECTIONS=20, BENCH_SECONDS=5 s after
 *    BENCH_WARMUP=1 s), then waits until every run is finished (BENCH_DRAIN_TIMEOUT=600 s): saves/s,
 *    and how the runs kept up (runs done/s, backlog, insert→done under load);
 * 2. latency, closed loop: BENCH_CLIENTS=10 clients send BENCH_SAVES=500 saves, each its next save as
 *    soon as the last one answered (not when its run is done); then waits for the runs. save→done = the
 *    run's `finished_at` minus the time the POST was sent (client clock; the same machine clock as the
 *    database's). When the clients save faster than the engine completes runs (measured in 1.), this is
 *    an overload test: its latency is the backlog it builds, and it is reported but not judged;
 * 3. latency, paced: BENCH_SAVES saves sent at a fixed rate, one phase per rate of BENCH_RATE=50,100
 *    saves/s (0: none) — an open loop: arrivals do not slow down when the engine does, so below the
 *    engine's workflow capacity this is the pipeline's own latency, and near it the knee shows.
 *
 * Before each latency phase the engine's tables are vacuumed (BENCH_VACUUM=0: not), as autovacuum would
 * have done after the load (test servers often run without it; PGlite has none). The timestamps of
 * each run and its steps split the latency into segments; the engine's SQL
 * statements and Redis commands, and the CPU of the engine, PostgreSQL and Redis, are counted per save
 * (bench/workflows.trace.ts).
 *
 * Prints saves/s and save→done p50/p95/p99 per driver, where the time goes (from the run's and steps'
 * timestamps), and the verdict for the target, p95 <= 100 ms on BullMQ, per paced phase (and for the
 * closed loop when it is not an overload).
 * BENCH_DRIVERS=in-process,bullmq picks drivers; BENCH_PROFILE=<dir> writes a CPU profile of the engine
 * per phase; BENCH_LOG=1 shows the engine's error log. Without Redis the BullMQ leg is skipped (a
 * failure under CI=true). Exits 1 when saves or runs failed.
 */
import { benchConfig, intEnv, loadText, log, startBenchEngine } from './bench.env';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { getPGliteInstance } from 'typeorm-pglite';
import { loadConfig } from '../src/config/app.config';
import { DATABASE, type Database, type SqlExecutor } from '../src/database/database';
import { bullmqQueueName } from '../src/queue/bullmq-queue.driver';
import { JOB_QUEUE, type JobQueue } from '../src/queue/job-queue';
import { createRedis, redactRedisUrl } from '../src/queue/redis-connection';
import { CpuProfiler } from './cpu-profiler';
import { failureShare } from './cards.report';
import { LoadGenerator } from './load.worker';
import { postgresSql, type RawSql } from './raw-sql';
import { SaveClient, type SaveRun, type SaveSpec } from './workflows.client';
import { NOTES, NOTES_MODULE, ticketInput, TICKETS, TICKETS_MODULE, TWO_ACTIONS_WORKFLOW, WORKFLOW } from './workflows.metadata';
import { Tracer, UNTRACED, UNTRACED_REDIS, type TraceSnapshot } from './workflows.trace';
import {
  latencyResult,
  mainTable,
  ms,
  P95_TARGET_MS,
  segmentTable,
  throughputResult,
  throughputTable,
  timelines,
  traceLines,
  type DriverResult,
  type LatencyResult,
} from './workflows.report';

const DRIVERS = ['in-process', 'bullmq'] as const;
type Driver = (typeof DRIVERS)[number];

/** BENCH_RATE=50,80: the paced phases' rates (0 or empty: none). */
function ratesEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const rates = raw
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '' && r !== '0')
    .map(Number);
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`${name} must be saves per second, comma-separated, got "${raw}"`);
  return rates;
}

/** BENCH_DRIVERS=bullmq measures one driver (default: both, in-process first). */
function driversToRun(): Driver[] {
  const raw = process.env.BENCH_DRIVERS;
  if (!raw) return [...DRIVERS];
  const names = raw.split(',').map((d) => d.trim());
  const unknown = names.filter((d) => !(DRIVERS as readonly string[]).includes(d));
  if (unknown.length > 0) throw new Error(`BENCH_DRIVERS: unknown driver(s) ${unknown.join(', ')}; use ${DRIVERS.join(', ')}`);
  return names as Driver[];
}

const sleep = (msec: number) => new Promise((done) => setTimeout(done, msec));

interface Settings {
  databaseUrl?: string;
  redisUrl: string;
  seconds: number;
  warmup: number;
  connections: number;
  clients: number;
  saves: number;
  /** Paced phases, saves per second each (empty: none). */
  rates: number[];
  warmupSaves: number;
  drainTimeoutMs: number;
  /** VACUUM (ANALYZE) the engine's tables before each latency phase. */
  vacuum: boolean;
  profileDir?: string;
}

async function main(): Promise<number> {
  const settings: Settings = {
    databaseUrl: process.env.DATABASE_URL || undefined,
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    seconds: intEnv('BENCH_SECONDS', 5),
    warmup: intEnv('BENCH_WARMUP', 1, 0),
    connections: intEnv('BENCH_CONNECTIONS', 20),
    clients: intEnv('BENCH_CLIENTS', 10),
    saves: intEnv('BENCH_SAVES', 500),
    rates: ratesEnv('BENCH_RATE', [50, 100]),
    warmupSaves: intEnv('BENCH_WARMUP_SAVES', 200, 0),
    drainTimeoutMs: intEnv('BENCH_DRAIN_TIMEOUT', 600) * 1000,
    vacuum: process.env.BENCH_VACUUM !== '0',
    profileDir: process.env.BENCH_PROFILE || undefined,
  };
  const drivers = driversToRun();
  const tracer = Tracer.install();
  const ci = process.env.CI === 'true';
  const redis = drivers.includes('bullmq') ? await probeRedis(settings.redisUrl) : undefined;
  const queueConcurrency = loadConfig(process.env, { adminApiKey: undefined }).queueConcurrency;

  let server = 'embedded PGlite, in memory';
  if (settings.databaseUrl) {
    const sql = postgresSql(settings.databaseUrl, 'public', 1);
    try {
      const [row] = await sql.query<{ version: string; autovacuum: string }>(
        `SELECT current_setting('server_version') AS version, current_setting('autovacuum') AS autovacuum`,
      );
      server = `PostgreSQL ${row.version} (schema bench_workflows_<driver>; autovacuum ${row.autovacuum})`;
    } finally {
      await sql.close();
    }
  }
  log(`workflows bench: ${server}, node ${process.version}`);
  log(`${cpus().length} cores (${cpus()[0]?.model.trim()}); load average before the run: ${loadText()}`);
  log(`note: these ${cpus().length} cores are shared by the load generator and the latency client (child processes), the engine,`);
  log(
    `      ${settings.databaseUrl ? 'PostgreSQL' : 'PGlite (in the engine process)'} and Redis; absolute figures are lower than on separate machines.`,
  );
  log(
    `workflow ${WORKFLOW} on ${TICKETS} (on create: updateFields status + counter, then createRecord in ${NOTES} linked back); ` +
      `queue workers: ${queueConcurrency} jobs at a time on either driver (QUEUE_CONCURRENCY)`,
  );
  log(
    `phases per driver: ${settings.warmupSaves} warm-up saves; autocannon -c ${settings.connections} for ${settings.seconds} s ` +
      `after ${settings.warmup} s warm-up, then drain; closed loop ${settings.clients} clients x ${settings.saves} saves` +
      (settings.rates.length > 0 ? `; paced ${settings.rates.join(', ')} saves/s x ${settings.saves} saves` : '') +
      (settings.vacuum ? '; VACUUM (ANALYZE) before each latency phase' : ''),
  );
  log();

  const results: DriverResult[] = [];
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  const load = LoadGenerator.start();
  const client = SaveClient.start();
  let problems = 0;
  try {
    for (const driver of drivers) {
      if (driver === 'bullmq' && !redis) {
        const reason = `Redis at ${redactRedisUrl(settings.redisUrl)} is unreachable`;
        log(`${ci ? 'ERROR' : 'SKIP'}  BullMQ leg: ${reason}${ci ? ' (CI=true: Redis is required)' : ' (start Redis or set REDIS_URL)'}`);
        results.push({ driver, skipped: reason, latency: [] });
        if (ci) problems++;
        continue;
      }
      log(`== ${driver} ==`);
      const result = await runDriver(driver, settings, load, client, tracer);
      results.push(result);
      log();
    }
  } finally {
    await load.stop();
    await client.stop();
    redis?.disconnect();
  }

  log(mainTable(results));
  log('(saves/s: autocannon POST creates; save→done: run finished_at − POST sent, completed runs; closed loop = clients that');
  log(' send their next save when the last one answered, not when its run is done; paced = an open loop at a fixed rate)');
  log();
  log(throughputTable(results));
  log();
  log(segmentTable(results.filter((r) => !r.skipped)));
  log();
  for (const line of traceLines(results)) log(line);
  log();
  const bull = results.find((r) => r.driver === 'bullmq');
  if (!bull || bull.skipped) {
    log(`SKIP  save→done p95 <= ${P95_TARGET_MS} ms on BullMQ: the BullMQ leg did not run`);
  } else {
    const capacity = bull.throughput?.runsPerSecond ?? Infinity;
    for (const l of bull.latency) {
      const line = `save→done p95 on BullMQ, ${l.label}: ${ms(l.total.p95)} (target <= ${P95_TARGET_MS} ms; p50 ${ms(l.total.p50)})`;
      if (l.mode === 'closed') {
        // Its clients do not wait for the runs: above the engine's run capacity that is an overload test, whose
        // latency is the backlog it builds. The target is judged on the paced phases.
        const overload = l.saveRate > capacity;
        log(
          `${overload ? 'INFO' : l.total.p95 <= P95_TARGET_MS ? 'PASS' : 'FAIL'}  ${line}` +
            (overload
              ? ` — overload, not judged: the clients saved ${Math.round(l.saveRate)}/s, above the ${Math.round(capacity)} runs/s measured`
              : ''),
        );
        continue;
      }
      const pass = l.total.p95 <= P95_TARGET_MS && l.completed > 0;
      log(`${pass ? 'PASS' : 'FAIL'}  ${line}`);
      if (!pass && l.saveRate > capacity)
        log(
          `      the clients saved ${Math.round(l.saveRate)}/s, above the ${Math.round(capacity)} runs/s the workflow engine completed under ` +
            'the autocannon load: runs queue up, and the latency is mostly that backlog',
        );
    }
  }
  log(`load average after the runs: ${loadText()}`);

  for (const r of results) {
    if (r.skipped) continue;
    const t = r.throughput;
    if (t && failureShare(t.http) > 0.01) {
      log(
        `ERROR  ${r.driver}: ${(failureShare(t.http) * 100).toFixed(1)}% of the autocannon saves failed ${JSON.stringify(t.http.statusCodes)}`,
      );
      problems++;
    }
    if (t && (t.failed > 0 || t.unfinished > 0)) {
      log(`ERROR  ${r.driver}: ${t.failed} runs failed and ${t.unfinished} did not finish after the autocannon load`);
      problems++;
    }
    for (const l of r.latency) {
      if (l.ok < l.saves || l.failed > 0 || l.unfinished > 0) {
        log(`ERROR  ${r.driver}, ${l.label}: ${l.saves - l.ok} saves failed, ${l.failed} runs failed, ${l.unfinished} did not finish`);
        problems++;
      }
    }
  }
  return problems > 0 ? 1 : 0;
}

async function runDriver(driver: Driver, s: Settings, load: LoadGenerator, client: SaveClient, tracer: Tracer): Promise<DriverResult> {
  const schema = `bench_workflows_${driver === 'bullmq' ? 'bullmq' : 'inprocess'}`;
  let adminSql: RawSql | undefined;
  let probeSql: RawSql | undefined;
  let app: NestExpressApplication | undefined;
  let profiler: CpuProfiler | undefined;
  let queueName: string | undefined;
  // Also run when the bench is interrupted (SIGINT/SIGTERM), so no schema or queue is left behind.
  const dropSchema = async () => {
    if (queueName) await removeQueue(s.redisUrl, queueName).catch((e: Error) => log(`  could not remove queue ${queueName}: ${e.message}`));
    if (adminSql) await adminSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  try {
    if (s.databaseUrl) {
      adminSql = postgresSql(s.databaseUrl, 'public', 1);
      await adminSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    const config = benchConfig(s.databaseUrl, schema, 'metadata/schema/workflow.schema.json', {
      redisUrl: driver === 'bullmq' ? s.redisUrl : undefined,
      processRole: 'all',
    });
    if (driver === 'bullmq' && s.databaseUrl) {
      // A queue of a PostgreSQL schema outlives the process: remove what a crashed earlier run left.
      queueName = bullmqQueueName(config);
      await removeQueue(s.redisUrl, queueName);
    }
    if (s.databaseUrl) onInterrupt.add(dropSchema);
    const engine = await startBenchEngine(config);
    app = engine.app;
    const url = engine.url;
    const headers = { authorization: `Bearer ${config.adminApiKey}`, 'content-type': 'application/json' };
    const db = app.get<Database>(DATABASE);
    // The bench's own reads (waiting for the runs, the timelines) go through a connection of their own on
    // PostgreSQL, so they take nothing from the engine's pool and their cost is not counted as the engine's.
    if (s.databaseUrl) probeSql = postgresSql(s.databaseUrl, schema, 1);
    const probe: SqlExecutor = probeSql ?? db;
    tracer.resetConnections();
    if (db.kind === 'pglite') tracer.attachPglite(await getPGliteInstance());
    const queue = app.get<JobQueue>(JOB_QUEUE);
    const api = apiClient(url, headers);

    await api('PUT', `/api/v1/admin/metadata/modules/${TICKETS}`, TICKETS_MODULE);
    await api('PUT', `/api/v1/admin/metadata/modules/${NOTES}`, NOTES_MODULE);
    await api('PUT', `/api/v1/admin/metadata/workflows/${WORKFLOW}`, TWO_ACTIONS_WORKFLOW);
    await sanityCheck(api, probe, queue, s.drainTimeoutMs);

    const savesUrl = `${url}/api/v1/${TICKETS}`;
    const saves = (phase: string, spec: Pick<SaveSpec, 'mode' | 'clients' | 'rate' | 'saves'>) =>
      client.run({ url: savesUrl, headers, body: ticketInput(phase), ...spec });
    if (s.warmupSaves > 0) {
      log(`  warm-up: ${s.warmupSaves} saves...`);
      await saves('warmup', { mode: 'closed', clients: s.clients, saves: s.warmupSaves });
      await drain(probe, queue, s.drainTimeoutMs);
    }

    profiler = await CpuProfiler.start(s.profileDir ? join(s.profileDir, driver) : undefined);
    const around = <T>(name: string, work: () => Promise<T>) => (profiler ? profiler.around(name, work) : work());

    log(`  throughput: autocannon -c ${s.connections}, ${s.seconds} s after ${s.warmup} s warm-up...`);
    const http = await around('load', () =>
      load.run({
        url: savesUrl,
        method: 'POST',
        headers,
        body: JSON.stringify(ticketInput('load')),
        connections: s.connections,
        durationSeconds: s.seconds,
        warmupSeconds: s.warmup,
      }),
    );
    const loadEnd = Date.now();
    log(`  draining the runs the load started...`);
    const drained = await around('load-drain', () => drain(probe, queue, s.drainTimeoutMs));
    if (!drained) log(`  (not drained within ${s.drainTimeoutMs / 1000} s)`);
    const throughput = throughputResult(http, await timelines(probe, ticketInput('load').name), loadEnd);

    const latency: LatencyResult[] = [];
    const phases: Array<{ label: string; phase: string; spec: Pick<SaveSpec, 'mode' | 'clients' | 'rate' | 'saves'> }> = [
      { label: `closed loop, ${s.clients} clients`, phase: 'closed', spec: { mode: 'closed', clients: s.clients, saves: s.saves } },
    ];
    for (const rate of s.rates)
      phases.push({ label: `paced, ${rate}/s`, phase: `paced ${rate}`, spec: { mode: 'paced', rate, saves: s.saves } });
    for (const p of phases) {
      if (s.vacuum) await vacuum(probe, db.kind, schema);
      log(`  latency, ${p.label}: ${s.saves} saves...`);
      const before = tracer.snapshot();
      const elu = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      // Measured until the last run finished (before waiting for the queue to be idle, which polls it).
      let after: { trace: TraceSnapshot; elu: number; cpu: NodeJS.CpuUsage } | undefined;
      const run: SaveRun = await around(p.phase, async () => {
        const done = await saves(p.phase, p.spec);
        const drained = await drain(probe, queue, s.drainTimeoutMs, () => {
          after = { trace: tracer.snapshot(), elu: performance.eventLoopUtilization(elu).utilization, cpu: process.cpuUsage(cpu) };
        });
        if (!drained) log(`  (not drained within ${s.drainTimeoutMs / 1000} s)`);
        return done;
      });
      after ??= { trace: tracer.snapshot(), elu: performance.eventLoopUtilization(elu).utilization, cpu: process.cpuUsage(cpu) };
      latency.push(
        latencyResult(p.label, p.spec.mode, run, await timelines(probe, ticketInput(p.phase).name), {
          elu: after.elu,
          cpuPerSave: (after.cpu.user + after.cpu.system) / 1000 / s.saves,
          systemCpuPerSave: after.cpu.system / 1000 / s.saves,
          trace: tracer.diff(before, after.trace, s.saves),
        }),
      );
    }
    return { driver, throughput, latency };
  } finally {
    profiler?.close();
    await probeSql?.close();
    await app?.close();
    await dropSchema();
    onInterrupt.delete(dropSchema);
    await adminSql?.close();
  }
}

/** Clean-ups to run when the bench is interrupted. */
const onInterrupt = new Set<() => Promise<void>>();
let interrupting = false;

/**
 * SIGINT/SIGTERM: drop the schemas and queues (the engine's own shutdown hook closes it meanwhile and
 * signals again; that second signal lands here too), then exit.
 */
function interrupted(signal: NodeJS.Signals): void {
  if (interrupting) return;
  interrupting = true;
  log(`${signal}: dropping the bench schemas and queues...`);
  void Promise.allSettled([...onInterrupt].map((cleanup) => cleanup())).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

type Api = (method: string, path: string, body?: unknown) => Promise<{ data: Record<string, any> }>;

function apiClient(base: string, headers: Record<string, string>): Api {
  return async (method, path, body) => {
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as { data: Record<string, any> };
  };
}

/**
 * Waits until no outbox event is pending and no run is queued, running or waiting (a ticket's create
 * event stays pending until its run exists), then calls `runsDone`, then waits until the queue is idle.
 * Returns false on timeout. (Polls every 100 ms with two indexed counts; the latencies come from the
 * database's timestamps, so the poll interval does not change them.)
 */
async function drain(probe: SqlExecutor, queue: JobQueue, timeoutMs: number, runsDone?: () => void): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await probe.query<{ pending: number; unfinished: number }>(
      `${UNTRACED} SELECT (SELECT count(*) FROM outbox WHERE attempts < 10)::int AS pending,
              (SELECT count(*) FROM workflow_runs WHERE status IN ('queued', 'running', 'waiting'))::int AS unfinished`,
    );
    if (Number(row.pending) === 0 && Number(row.unfinished) === 0) break;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  runsDone?.();
  return Promise.race([queue.idle().then(() => true), sleep(Math.max(1000, deadline - Date.now())).then(() => false)]);
}

/**
 * VACUUM (ANALYZE) every table of the bench's schema (PostgreSQL) or of the embedded database: what
 * autovacuum would have done after the load (it is off on some test servers, and PGlite has none).
 * Without it the outbox's pending-events index is full of dead entries after the load, and every
 * lease scans them.
 */
async function vacuum(probe: SqlExecutor, kind: Database['kind'], schema: string): Promise<void> {
  if (kind === 'pglite') {
    await probe.query(`${UNTRACED} VACUUM (ANALYZE)`);
    return;
  }
  const tables = await probe.query<{ name: string }>(`${UNTRACED} SELECT tablename AS name FROM pg_tables WHERE schemaname = $1`, [schema]);
  for (const { name } of tables) await probe.query(`${UNTRACED} VACUUM (ANALYZE) "${schema}"."${name}"`);
}

/** One save through the API: its run completes, the ticket is updated and a note links back to it. */
async function sanityCheck(api: Api, probe: SqlExecutor, queue: JobQueue, timeoutMs: number): Promise<void> {
  const { data: ticket } = await api('POST', `/api/v1/${TICKETS}`, ticketInput('sanity'));
  if (!(await drain(probe, queue, timeoutMs))) throw new Error('sanity check: the run of one save did not finish');
  const { data: updated } = await api('GET', `/api/v1/${TICKETS}/${ticket.id}`);
  if (updated.status !== 'triaged' || updated.counter !== 1)
    throw new Error(`sanity check: the ticket is ${JSON.stringify(updated)}, not triaged with counter 1`);
  const runs = (await api('GET', `/api/v1/${TICKETS}/${ticket.id}/workflow-runs`)).data as unknown as Array<Record<string, any>>;
  if (runs.length !== 1 || runs[0].status !== 'completed' || runs[0].steps?.length !== 2)
    throw new Error(`sanity check: runs ${JSON.stringify(runs)}`);
  const noteId = runs[0].steps[1].result?.created?.id as string;
  const { data: note } = await api('GET', `/api/v1/${NOTES}/${noteId}`);
  if (note.ticket !== ticket.id || note.subject !== `Triaged: ${ticket.name}`)
    throw new Error(`sanity check: the note is ${JSON.stringify(note)}`);
}

/** A connection to Redis when it answers PING within 2 s, else undefined. */
async function probeRedis(url: string): Promise<Redis | undefined> {
  const client = new Redis(url, {
    connectionName: UNTRACED_REDIS,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    if ((await client.ping()) === 'PONG') return client;
  } catch {
    // unreachable
  }
  client.disconnect();
  return undefined;
}

async function removeQueue(redisUrl: string, name: string): Promise<void> {
  const connection = createRedis(redisUrl, UNTRACED_REDIS);
  const queue = new Queue(name, { connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
    await connection.quit();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
