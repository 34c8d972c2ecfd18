import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox (events written in the same transaction as the change that caused
 * them, handed to the job queue after commit) and background jobs with progress.
 */
export class OutboxAndJobs1764144000000 implements MigrationInterface {
  name = 'OutboxAndJobs1764144000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- a relay holds an event until this time; after it, another relay may take it over
        leased_until timestamptz,
        processed_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await runner.query(`CREATE INDEX outbox_pending_idx ON outbox (id) WHERE processed_at IS NULL`);
    await runner.query(`
      CREATE TABLE jobs (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        status text NOT NULL,
        payload jsonb NOT NULL,
        progress jsonb NOT NULL DEFAULT '{}',
        error text,
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query(`CREATE INDEX jobs_status_idx ON jobs (status, created_at)`);
    // The formulas each module's records were last computed with; a change schedules a backfill exactly once.
    await runner.query(`
      CREATE TABLE formula_states (
        module text PRIMARY KEY,
        signature text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['formula_states', 'jobs', 'outbox']) await runner.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
