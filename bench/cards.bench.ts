/**
 * `npm run bench:cards`: what formulas and rules add to a save, and how long a card takes.
 *
 * Starts the engine in-process (embedded PGlite in memory, or PostgreSQL with DATABASE_URL in its own
 * schema BENCH_SCHEMA, default bench_cards, dropped before and after), publishes two modules with the
 * same 26 plain fields — `bench_plain`, and `bench_rich` with 20 formula fields and 20 rules on top —
 * and measures, in one run:
 *
 * 1. in-process, `prepareWrite` (the pipeline every save takes) on the same inputs for both modules:
 *    BENCH_WARMUP_ITERATIONS=500 unmeasured, then BENCH_ITERATIONS=2000 measured calls each,
 *    interleaved; median and p95 per call and the added cost of the rich module (target <= 1 ms median)
 *    for a create, an update and the evaluation a card render does;
 * 2. HTTP create throughput on both modules with autocannon (BENCH_CONNECTIONS=20, BENCH_SECONDS=10 s
 *    per run after BENCH_WARMUP=2 s, BENCH_ROUNDS=2 rounds in plain-rich-rich-plain order);
 * 3. card render time, `GET /api/v1/<module>/:id/card?lang=sv`, on both modules under the same load.
 *
 * BENCH_PROFILE=<dir> writes a CPU profile of the pipeline phase and of each HTTP run; BENCH_LOG=1 shows the
 * engine's error log.
 * Exits 1 when more than 1% of some run's requests failed; the target's verdict is printed.
 */
import { benchConfig, benchSchema, intEnv, loadText, log, startBenchEngine } from './bench.env';
import { cpus } from 'node:os';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MetadataRegistry } from '../src/metadata/metadata.registry';
import { CpuProfiler } from './cpu-profiler';
import { LoadGenerator, type LoadResult, type LoadSpec } from './load.worker';
import { postgresSql, type RawSql } from './raw-sql';
import { comparePipelines, storedRecord, type PipelineCase, type PipelineResult } from './cards.pipeline';
import {
  FORMULA_COUNT,
  moduleBody,
  PLAIN_FIELD_COUNT,
  PLAIN_MODULE,
  recordInput,
  RICH_MODULE,
  RICH_RULES,
  updateInput,
} from './cards.modules';
import { ADDED_COST_TARGET_MS, combine, errorTable, failureShare, httpTable, ms, pipelineTable, type HttpRow } from './cards.report';

/** Records per module created before the load runs, whose cards are then requested. */
const CARD_RECORDS = 100;

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const warmupIterations = intEnv('BENCH_WARMUP_ITERATIONS', 500, 0);
  const iterations = intEnv('BENCH_ITERATIONS', 2000);
  const seconds = intEnv('BENCH_SECONDS', 10);
  const warmup = intEnv('BENCH_WARMUP', 2, 0);
  const connections = intEnv('BENCH_CONNECTIONS', 20);
  const rounds = intEnv('BENCH_ROUNDS', 2);
  const schema = benchSchema('bench_cards');

  let app: NestExpressApplication | undefined;
  let adminSql: RawSql | undefined;
  let load: LoadGenerator | undefined;
  let profiler: CpuProfiler | undefined;
  try {
    if (databaseUrl) {
      adminSql = postgresSql(databaseUrl, schema, 1);
      await adminSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
    const config = benchConfig(databaseUrl, schema, 'metadata/schema/module.schema.json');
    const engine = await startBenchEngine(config);
    app = engine.app;
    const url = engine.url;
    const headers = { authorization: `Bearer ${config.adminApiKey}`, 'content-type': 'application/json' };
    const api = apiClient(url, headers);

    const cores = cpus().length;
    log(`cards bench: ${databaseUrl ? `PostgreSQL (schema ${schema})` : 'embedded PGlite, in memory'}, node ${process.version}`);
    log(`${cores} cores (${cpus()[0]?.model.trim()}); load average before the run: ${loadText()}`);
    log(`note: the machine has ${cores} cores, shared by the load generator (autocannon, a child process), the server`);
    log('      and the database; HTTP figures are lower than on separate machines, the rich/plain ratio is the point.');
    log(
      `modules: ${PLAIN_MODULE} (${PLAIN_FIELD_COUNT} plain fields, one of them lines), ` +
        `${RICH_MODULE} (the same + ${FORMULA_COUNT} formula fields + ${RICH_RULES.length} rules); records with 5 lines`,
    );
    log();

    await api.put(`/api/v1/admin/metadata/modules/${PLAIN_MODULE}`, moduleBody(PLAIN_MODULE, false));
    await api.put(`/api/v1/admin/metadata/modules/${RICH_MODULE}`, moduleBody(RICH_MODULE, true));
    await api.put(`/api/v1/admin/metadata/rules/${RICH_MODULE}`, RICH_RULES);
    const snapshot = app.get(MetadataRegistry).snapshot();
    const plain = snapshot.module(PLAIN_MODULE);
    const rich = snapshot.module(RICH_MODULE);
    if (plain.formulas.record.length !== 0 || plain.rules.rules.length !== 0) throw new Error(`${PLAIN_MODULE} is not plain`);
    if (rich.formulas.record.length !== FORMULA_COUNT || rich.rules.rules.length !== RICH_RULES.length)
      throw new Error(`${RICH_MODULE} compiled ${rich.formulas.record.length} formulas and ${rich.rules.rules.length} rules`);

    // Records for the card runs, created through the API (also a check that both modules accept the input).
    const ids: Record<string, string[]> = { [PLAIN_MODULE]: [], [RICH_MODULE]: [] };
    for (let i = 0; i < CARD_RECORDS; i++) {
      for (const module of [PLAIN_MODULE, RICH_MODULE]) {
        const { data } = await api.post(`/api/v1/${module}`, recordInput());
        ids[module].push(data.id as string);
      }
    }
    await sanityCheck(api, ids[RICH_MODULE][0]);

    profiler = await CpuProfiler.start(process.env.BENCH_PROFILE);

    // 1. The pipeline in-process, while the machine is otherwise quiet.
    log(`prepareWrite in-process: ${warmupIterations} warm-up + ${iterations} measured calls per module and case, interleaved...`);
    const storedCache = new Map([
      [plain.name, await storedRecord(plain, recordInput())],
      [rich.name, await storedRecord(rich, recordInput())],
    ]);
    const cases: PipelineCase[] = [
      { name: 'create (5 lines)', input: recordInput, current: () => null },
      { name: 'update (4 fields)', input: updateInput, current: (m) => storedCache.get(m.name)! },
      { name: 'card evaluation (no input)', input: () => ({}), current: (m) => storedCache.get(m.name)! },
    ];
    const pipelineRuns: PipelineResult[] = [];
    for (const testCase of cases) {
      const run = () => comparePipelines(plain, rich, testCase, warmupIterations, iterations);
      pipelineRuns.push(profiler ? await profiler.around(`pipeline ${testCase.name}`, run) : await run());
    }

    // 2 and 3. HTTP under load.
    load = LoadGenerator.start();
    const measure = (
      name: string,
      spec: Omit<LoadSpec, 'headers' | 'connections' | 'durationSeconds' | 'warmupSeconds'>,
    ): Promise<LoadResult> => {
      log(`  ${name}...`);
      const full: LoadSpec = { ...spec, url: `${url}${spec.url}`, headers, connections, durationSeconds: seconds, warmupSeconds: warmup };
      return profiler ? profiler.around(name, () => load!.run(full)) : load!.run(full);
    };
    log();
    log(
      `HTTP: autocannon -c ${connections}, ${seconds} s per run after ${warmup} s warm-up, ${rounds} round(s) (plain, rich, then reversed)...`,
    );
    const creates: Record<string, LoadResult[]> = { [PLAIN_MODULE]: [], [RICH_MODULE]: [] };
    const cards: Record<string, LoadResult[]> = { [PLAIN_MODULE]: [], [RICH_MODULE]: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [PLAIN_MODULE, RICH_MODULE] : [RICH_MODULE, PLAIN_MODULE];
      for (const module of order) {
        creates[module].push(
          await measure(`create ${module} round ${round + 1}`, {
            url: `/api/v1/${module}`,
            method: 'POST',
            body: JSON.stringify(recordInput()),
          }),
        );
      }
      for (const module of order) {
        cards[module].push(
          await measure(`card ${module} round ${round + 1}`, {
            url: '',
            method: 'GET',
            paths: ids[module].map((id) => `/api/v1/${module}/${id}/card?lang=sv`),
          }),
        );
      }
    }
    const httpRows: HttpRow[] = [
      { name: 'create (POST, 5 lines)', plain: combine(creates[PLAIN_MODULE]), rich: combine(creates[RICH_MODULE]) },
      { name: 'card (GET ?lang=sv)', plain: combine(cards[PLAIN_MODULE]), rich: combine(cards[RICH_MODULE]) },
    ];

    log();
    log(pipelineTable(pipelineRuns));
    log();
    log(httpTable(httpRows));
    log();
    const [create, update] = pipelineRuns;
    const verdict = (r: PipelineResult) => {
      const added = r.rich.median - r.plain.median;
      const pass = added <= ADDED_COST_TARGET_MS;
      return (
        `${pass ? 'PASS' : 'FAIL'}  added cost per save of ${FORMULA_COUNT} formulas + ${RICH_RULES.length} rules, ${r.name}: ` +
        `${ms(added)} median (target <= ${ADDED_COST_TARGET_MS} ms; p95 ${ms(r.rich.p95 - r.plain.p95)}, mean ${ms(r.rich.mean - r.plain.mean)})`
      );
    };
    log(verdict(create));
    log(verdict(update));
    const card = httpRows[1].rich;
    log(
      `INFO  card render ${RICH_MODULE}: p50 ${ms(card.p50)}, p99 ${ms(card.p99)}, ${Math.round(card.rps)} req/s under -c ${connections}`,
    );
    log();
    log(errorTable(httpRows));
    log(`load average after the runs: ${loadText()}`);
    const failing = httpRows
      .flatMap((r) => [
        { name: `${r.name} ${PLAIN_MODULE}`, result: r.plain },
        { name: `${r.name} ${RICH_MODULE}`, result: r.rich },
      ])
      .filter((x) => failureShare(x.result) > 0.01);
    for (const f of failing)
      log(
        `ERROR  ${f.name}: ${(failureShare(f.result) * 100).toFixed(1)}% of requests failed, status codes ${JSON.stringify(f.result.statusCodes)}`,
      );
    return failing.length > 0 ? 1 : 0;
  } finally {
    profiler?.close();
    await load?.stop();
    await app?.close();
    if (adminSql) {
      await adminSql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await adminSql.close();
    }
  }
}

interface ApiClient {
  put(path: string, body: unknown): Promise<{ data: Record<string, unknown> }>;
  post(path: string, body: unknown): Promise<{ data: Record<string, unknown> }>;
  get(path: string): Promise<{ data: Record<string, unknown> }>;
}

function apiClient(base: string, headers: Record<string, string>): ApiClient {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 2000)}`);
    return JSON.parse(text) as { data: Record<string, unknown> };
  };
  return { put: (p, b) => call('PUT', p, b), post: (p, b) => call('POST', p, b), get: (p) => call('GET', p) };
}

/** The rich record got its formula values, and its card renders them with the rules applied. */
async function sanityCheck(api: ApiClient, richId: string): Promise<void> {
  const { data: record } = await api.get(`/api/v1/${RICH_MODULE}/${richId}`);
  const expected: Record<string, unknown> = {
    f_line_count: 5,
    f_full_name: 'Anna Lindqvist',
    f_due_date: '2026-03-31',
    f_size_class: 'medium',
  };
  for (const [field, value] of Object.entries(expected)) {
    if (record[field] !== value)
      throw new Error(`sanity check: ${RICH_MODULE}.${field} is ${JSON.stringify(record[field])}, not ${JSON.stringify(value)}`);
  }
  const { data: card } = await api.get(`/api/v1/${RICH_MODULE}/${richId}/card?lang=sv`);
  const fields = (card.blocks as Array<{ fields: Array<{ name: string; visible: boolean; required: boolean }> }>).flatMap((b) => b.fields);
  const field = (name: string) => fields.find((f) => f.name === name);
  if (fields.length !== PLAIN_FIELD_COUNT + FORMULA_COUNT) throw new Error(`sanity check: the card shows ${fields.length} fields`);
  if (field('closed_reason')?.visible !== false || field('end_date')?.required !== true)
    throw new Error('sanity check: the rules are not applied on the card');
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
