import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Handled outbox events are deleted rather than marked: `processed_at` (and the partial index on it) served only to
 * tell them apart. Events an earlier version marked handled go now; the primary key serves the relay's lease.
 */
export class OutboxHandledDeleted1764316800000 implements MigrationInterface {
  name = 'OutboxHandledDeleted1764316800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM outbox WHERE processed_at IS NOT NULL`);
    await runner.query(`DROP INDEX IF EXISTS outbox_pending_idx`);
    await runner.query(`ALTER TABLE outbox DROP COLUMN processed_at`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE outbox ADD COLUMN processed_at timestamptz`);
    await runner.query(`CREATE INDEX outbox_pending_idx ON outbox (id) WHERE processed_at IS NULL`);
  }
}
