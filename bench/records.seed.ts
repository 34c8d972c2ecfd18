import type { RawSql } from './raw-sql';

/**
 * Bulk seeding of `opportunities` records straight into the engine's tables, in the
 * shape the engine itself writes (numbers `OPP-00001`, normalised data), with a skewed
 * stage distribution: the newest 1% are `won`, 95% of all rows are `prospecting`,
 * the rest spread over the other stages. created_at is one second apart, newest last.
 */
export const MODULE = 'opportunities';
const CHUNK = 100_000;
const WON_SHARE = 0.01;
/** Of the rows that are not won, this share (per 10,000) is prospecting, so 95% overall. */
const PROSPECTING_PER_10K = Math.round((0.95 / (1 - WON_SHARE)) * 10_000);

export interface SeedTimings {
  insertSeconds: number;
  indexSeconds: number;
  analyzeSeconds: number;
}

export async function seedRecords(sql: RawSql, count: number, progress: (line: string) => void): Promise<SeedTimings> {
  // Building indexes once after the load is far cheaper than maintaining them per row
  // (the GIN index on data above all); they are rebuilt with the engine's exact definitions.
  const indexes = await sql.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'records' AND indexname <> 'records_pkey'`,
  );
  for (const index of indexes) await sql.query(`DROP INDEX "${index.indexname}"`);

  let started = Date.now();
  const firstWon = count - Math.max(1, Math.round(count * WON_SHARE)) + 1;
  const newest = new Date(Date.now() - 60_000).toISOString();
  for (let from = 1; from <= count; from += CHUNK) {
    const to = Math.min(count, from + CHUNK - 1);
    await sql.query(
      `INSERT INTO records (id, module, number, data, owner_id, created_by, created_at, updated_at)
       SELECT gen_random_uuid(), '${MODULE}',
              'OPP-' || CASE WHEN length(i::text) >= 5 THEN i::text ELSE lpad(i::text, 5, '0') END,
              jsonb_build_object(
                'name', 'Opportunity ' || i,
                'stage', CASE WHEN i >= $2 THEN 'won'
                              WHEN (i * 7919) % 10000 < ${PROSPECTING_PER_10K} THEN 'prospecting'
                              ELSE (ARRAY['qualification', 'proposal', 'negotiation', 'lost'])[1 + (i % 4)::int] END,
                'amount', (i % 1000) * 250,
                'probability', (i % 101)::int,
                'lead_source', (ARRAY['website', 'referral', 'event', 'campaign', 'cold_call', 'partner', 'other'])[1 + (i % 7)::int],
                'close_date', to_char(DATE '2026-01-01' + (i % 365)::int, 'YYYY-MM-DD')),
              'bench-seed', 'bench-seed', t.at, t.at
         FROM generate_series($3::bigint, $4::bigint) AS i,
              LATERAL (SELECT $5::timestamptz - make_interval(secs => ($1::bigint - i)::double precision) AS at) AS t`,
      [count, firstWon, from, to, newest],
    );
    progress(`  seeded ${to.toLocaleString('en-US')} / ${count.toLocaleString('en-US')}`);
  }
  // Engine creates continue the numbering after the seeded rows.
  await sql.query(
    `INSERT INTO number_sequences (module, sequence, last_value) VALUES ('${MODULE}', 'number', $1)
     ON CONFLICT (module, sequence) DO UPDATE SET last_value = EXCLUDED.last_value`,
    [count],
  );
  const insertSeconds = (Date.now() - started) / 1000;

  started = Date.now();
  if (sql.kind === 'postgres') await sql.query(`SET maintenance_work_mem = '512MB'`);
  for (const index of indexes) await sql.query(index.indexdef);
  const indexSeconds = (Date.now() - started) / 1000;

  started = Date.now();
  await sql.query('VACUUM (ANALYZE) records');
  await sql.query('ANALYZE number_sequences');
  // Flush the load's dirty pages now rather than in a checkpoint during the first measured runs.
  await sql.query('CHECKPOINT').catch(() => undefined);
  return { insertSeconds, indexSeconds, analyzeSeconds: (Date.now() - started) / 1000 };
}

export async function stageCounts(sql: RawSql): Promise<Array<{ stage: string; count: number }>> {
  const rows = await sql.query<{ stage: string; count: string }>(
    `SELECT data->>'stage' AS stage, count(*)::text AS count FROM records WHERE module = '${MODULE}' GROUP BY 1 ORDER BY count(*) DESC`,
  );
  return rows.map((r) => ({ stage: r.stage, count: Number(r.count) }));
}

/** Random record ids for GET-by-id load. */
export async function sampleIds(sql: RawSql, count: number): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(`SELECT id::text AS id FROM records WHERE module = '${MODULE}' ORDER BY random() LIMIT $1`, [
    count,
  ]);
  return rows.map((r) => r.id);
}

/**
 * The engine's cursor (see encodeCursor in src/records/record-query.compiler.ts) for the
 * unfiltered default list (`-createdAt`) positioned after the row at `depth`.
 */
export async function cursorAtDepth(sql: RawSql, depth: number): Promise<string> {
  const rows = await sql.query<{ id: string; v: string }>(
    `SELECT id::text AS id, (created_at)::text AS v FROM records
      WHERE module = '${MODULE}' AND archived_at IS NULL
      ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
    [depth - 1],
  );
  if (rows.length === 0) throw new Error(`no record at depth ${depth}`);
  return Buffer.from(JSON.stringify({ s: '-createdAt', v: [rows[0].v], id: rows[0].id })).toString('base64url');
}
