import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Workflow runs with their steps (the run log), and the outbox of outgoing mail. */
export class WorkflowsAndMail1764230400000 implements MigrationInterface {
  name = 'WorkflowsAndMail1764230400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE workflow_runs (
        id uuid PRIMARY KEY,
        workflow text NOT NULL,
        workflow_version integer NOT NULL,
        module text NOT NULL,
        record_id uuid,
        trigger text NOT NULL,
        status text NOT NULL,
        -- what started the run: the change (before/after) or the schedule tick
        event jsonb NOT NULL,
        -- the workflows and records that led here, oldest first, and how deep the cascade is
        causation jsonb NOT NULL DEFAULT '[]',
        depth integer NOT NULL DEFAULT 0,
        -- one run per workflow and triggering event, however often the event is delivered
        dedupe_key text NOT NULL,
        next_step integer NOT NULL DEFAULT 0,
        resume_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (workflow, dedupe_key)
      )`);
    await runner.query(`CREATE INDEX workflow_runs_record_idx ON workflow_runs (record_id, created_at)`);
    await runner.query(`CREATE INDEX workflow_runs_status_idx ON workflow_runs (status, created_at)`);
    await runner.query(`
      CREATE TABLE workflow_steps (
        run_id uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
        step integer NOT NULL,
        action text NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        result jsonb,
        error text,
        started_at timestamptz,
        finished_at timestamptz,
        PRIMARY KEY (run_id, step)
      )`);
    await runner.query(`
      CREATE TABLE mail_messages (
        id uuid PRIMARY KEY,
        -- e.g. "<run id>:<step>": a step delivered twice queues one message
        idempotency_key text UNIQUE,
        template text,
        to_addresses jsonb NOT NULL,
        cc_addresses jsonb NOT NULL DEFAULT '[]',
        subject text NOT NULL,
        html text NOT NULL,
        text_body text,
        attachments jsonb NOT NULL DEFAULT '[]',
        status text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        record_module text,
        record_id uuid,
        workflow_run_id uuid,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        sent_at timestamptz
      )`);
    await runner.query(`CREATE INDEX mail_messages_status_idx ON mail_messages (status, created_at)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['mail_messages', 'workflow_steps', 'workflow_runs']) await runner.query(`DROP TABLE IF EXISTS ${table}`);
  }
}
