/**
 * `npm run bench:records`: the records API against a raw-`pg` baseline measured in the same run.
 *
 * Seeds BENCH_RECORDS opportunities (default 1,000,000 on PostgreSQL, 20,000 on embedded PGlite)
 * with bulk SQL, starts the engine in-process and a minimal node:http + raw SQL server beside it,
 * then loads both with autocannon (loopback, BENCH_CONNECTIONS=20 connections, BENCH_SECONDS=10 s
 * per run after BENCH_WARMUP=2 s): create, get by id, a filtered + sorted list page on an indexed
 * field, the first page and a deep cursor page of the default list. Prints throughput, p50/p99 and
 * the engine/baseline ratios with the targets.
 *
 * With DATABASE_URL it works in its own schema (BENCH_SCHEMA, default bench_records), dropped
 * before and after the run (BENCH_KEEP_SCHEMA=1 keeps it afterwards). BENCH_PROFILE=<dir> writes a
 * CPU profile of the server side per run; BENCH_ONLY=create,get,list,first,deep picks operations.
 * Exits 1 only when more than 1% of some run's requests failed.
 */
import { benchConfig, benchSchema, intEnv, loadText, log, startBenchEngine } from './bench.env';
import { cpus } from 'node:os';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getPGliteInstance } from 'typeorm-pglite';
import { CpuProfiler } from './cpu-profiler';
import { comparisonTable, errorTable, failureShare, verdicts, type Comparison } from './bench.report';
import { LoadGenerator, type LoadSpec } from './load.worker';
import { startRawServer, type RawServer } from './raw-pg.server';
import { pgliteSql, postgresSql, type RawSql } from './raw-sql';
import { cursorAtDepth, MODULE, sampleIds, seedRecords, stageCounts } from './records.seed';

const POOL_SIZE = 20; // the engine's pg pool size (src/database/typeorm.database.ts)
const CREATE_BODY = JSON.stringify({
  name: 'Bench opportunity',
  stage: 'qualification',
  amount: 12500,
  lead_source: 'website',
  close_date: '2026-06-30',
});

const OPERATION_KEYS = ['get', 'list', 'first', 'deep', 'create'] as const;
type OperationKey = (typeof OPERATION_KEYS)[number];
const REPORT_ORDER: OperationKey[] = ['create', 'get', 'list', 'first', 'deep'];

/** BENCH_ONLY=create,list measures a subset (default: all). */
function operationsToRun(): OperationKey[] {
  const raw = process.env.BENCH_ONLY;
  if (!raw) return [...OPERATION_KEYS];
  const keys = raw.split(',').map((k) => k.trim());
  const unknown = keys.filter((k) => !(OPERATION_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown operation(s) ${unknown.join(', ')}; use ${OPERATION_KEYS.join(', ')}`);
  return keys as OperationKey[];
}

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const kind = databaseUrl ? 'postgres' : 'pglite';
  const count = intEnv('BENCH_RECORDS', kind === 'postgres' ? 1_000_000 : 20_000, 100);
  const seconds = intEnv('BENCH_SECONDS', 10);
  const warmup = intEnv('BENCH_WARMUP', 2, 0);
  const connections = intEnv('BENCH_CONNECTIONS', 20);
  const only = operationsToRun();
  const schema = benchSchema('bench_records');

  let app: NestExpressApplication | undefined;
  let seedSql: RawSql | undefined;
  let baselineSql: RawSql | undefined;
  let raw: RawServer | undefined;
  let load: LoadGenerator | undefined;
  let profiler: CpuProfiler | undefined;
  try {
    if (databaseUrl) {
      seedSql = postgresSql(databaseUrl, schema, 1);
      await seedSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    const config = benchConfig(databaseUrl, schema, `modules/${MODULE}/module.json`);
    const engine = await startBenchEngine(config);
    app = engine.app;
    const engineUrl = engine.url;
    if (kind === 'pglite') seedSql = baselineSql = pgliteSql(await getPGliteInstance());
    else baselineSql = postgresSql(databaseUrl!, schema, POOL_SIZE);

    const version = (await seedSql!.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))[0].v;
    log(
      `records bench: ${kind === 'postgres' ? `PostgreSQL ${version}, schema ${schema}` : `embedded PGlite (PostgreSQL ${version}), in memory`}`,
    );
    log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()})`);
    log(`${count.toLocaleString('en-US')} records, autocannon -c ${connections}, ${seconds} s per run after ${warmup} s warm-up, loopback`);
    log(`note: autocannon (child process), the servers and the database share these ${cpus().length} cores;`);
    log('      absolute figures are lower than on separate machines, the ratios are the point.');
    log(`      load average before the run: ${loadText()} (other work on the machine skews the figures)`);
    log();

    log('seeding...');
    const timings = await seedRecords(seedSql!, count, log);
    log(
      `seeded in ${(timings.insertSeconds + timings.indexSeconds + timings.analyzeSeconds).toFixed(1)} s ` +
        `(insert ${timings.insertSeconds.toFixed(1)} s, indexes ${timings.indexSeconds.toFixed(1)} s, vacuum/analyze ${timings.analyzeSeconds.toFixed(1)} s)`,
    );
    const stages = await stageCounts(seedSql!);
    log(`stages: ${stages.map((s) => `${s.stage} ${((s.count / count) * 100).toFixed(1)}%`).join(', ')} (won = the newest rows)`);

    const depth = Math.floor(count / 2);
    const cursor = await cursorAtDepth(seedSql!, depth);
    const ids = await sampleIds(seedSql!, Math.min(10_000, count));
    raw = await startRawServer(baselineSql!);

    const auth = { authorization: `Bearer ${config.adminApiKey}` };
    const base = `/api/v1/${MODULE}`;
    const filtered = `${base}?filter[stage][eq]=won&sort=-createdAt&limit=50`;
    const firstPage = base;
    const deepPage = `${base}?cursor=${cursor}`;
    await sanityCheck(engineUrl, raw.url, auth, { filtered, firstPage, deepPage, get: `${base}/${ids[0]}` });

    load = LoadGenerator.start();
    profiler = await CpuProfiler.start(process.env.BENCH_PROFILE);
    const measure = async (name: string, op: Operation): Promise<Comparison> => {
      const run = (server: string, who: string) => {
        log(`  ${name}: ${who}...`);
        const spec: LoadSpec = {
          url: `${server}${op.path ?? ''}`,
          method: op.method,
          body: op.body,
          paths: op.paths,
          headers: { ...auth, 'content-type': 'application/json' },
          connections,
          durationSeconds: seconds,
          warmupSeconds: warmup,
        };
        return profiler ? profiler.around(`${name} ${who}`, () => load!.run(spec)) : load!.run(spec);
      };
      const engine = await run(engineUrl, 'engine');
      const baseline = await run(raw!.url, 'baseline');
      return { name, engine, baseline };
    };

    // Reads first, on the freshly seeded table; creates last, as they grow it. Reported in the issue's order.
    const operations: Record<OperationKey, { name: string; op: Operation }> = {
      get: { name: 'get by id', op: { method: 'GET', paths: ids.map((id) => `${base}/${id}`) } },
      list: { name: 'filtered list (stage=won)', op: { method: 'GET', path: filtered } },
      first: { name: 'first page (default sort)', op: { method: 'GET', path: firstPage } },
      deep: { name: `deep page (cursor @ ${depth.toLocaleString('en-US')})`, op: { method: 'GET', path: deepPage } },
      create: { name: 'create', op: { method: 'POST', body: CREATE_BODY, path: base } },
    };
    log();
    log(`measuring ${only.join(', ')} (engine, then baseline, per operation)...`);
    const runs: Partial<Record<OperationKey, Comparison>> = {};
    for (const key of OPERATION_KEYS) if (only.includes(key)) runs[key] = await measure(operations[key].name, operations[key].op);
    const rows = REPORT_ORDER.flatMap((key) => (runs[key] ? [runs[key]] : []));

    log();
    log(comparisonTable(rows));
    log();
    for (const v of verdicts(runs)) log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.line}`);
    log();
    log(errorTable(rows));
    log(`load average after the runs: ${loadText()}`);
    const failing = rows
      .flatMap((r) => [
        { who: 'engine', r: r.engine, name: r.name },
        { who: 'baseline', r: r.baseline, name: r.name },
      ])
      .filter((x) => failureShare(x.r) > 0.01);
    for (const f of failing)
      log(
        `ERROR  ${f.name} (${f.who}): ${(failureShare(f.r) * 100).toFixed(1)}% of requests failed, status codes ${JSON.stringify(f.r.statusCodes)}`,
      );
    return failing.length > 0 ? 1 : 0;
  } finally {
    profiler?.close();
    await load?.stop();
    await raw?.close();
    await app?.close();
    if (baselineSql !== seedSql) await baselineSql?.close();
    if (databaseUrl && seedSql) {
      // BENCH_KEEP_SCHEMA=1 leaves the seeded schema behind, e.g. to EXPLAIN the list queries.
      if (process.env.BENCH_KEEP_SCHEMA !== '1') await seedSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await seedSql.close();
    }
  }
}

/** What one measured operation sends: a fixed path, or one of `paths` at random per request. */
interface Operation {
  method: LoadSpec['method'];
  path?: string;
  paths?: string[];
  body?: string;
}

/** One request of each kind to both servers: the right status, and the same rows from both. */
async function sanityCheck(
  engineUrl: string,
  rawUrl: string,
  headers: Record<string, string>,
  paths: { filtered: string; firstPage: string; deepPage: string; get: string },
): Promise<void> {
  const fetchJson = async (url: string) => {
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { data: Array<{ id: string; stage?: string; data?: { stage: string } }> | { id: string } };
    if (res.status !== 200) throw new Error(`sanity check: GET ${url} answered ${res.status}: ${JSON.stringify(body)}`);
    return body.data;
  };
  for (const [name, path] of Object.entries(paths)) {
    const engine = await fetchJson(engineUrl + path);
    const baseline = await fetchJson(rawUrl + path);
    const ids = (data: typeof engine) => (Array.isArray(data) ? data.map((r) => r.id) : [data.id]);
    if (JSON.stringify(ids(engine)) !== JSON.stringify(ids(baseline)))
      throw new Error(`sanity check: ${name} differs between engine and baseline`);
    if (Array.isArray(engine) && engine.length !== 50) throw new Error(`sanity check: ${name} returned ${engine.length} rows, not 50`);
    if (name === 'filtered' && Array.isArray(engine) && engine.some((r) => r.stage !== 'won'))
      throw new Error('sanity check: filter not applied');
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
