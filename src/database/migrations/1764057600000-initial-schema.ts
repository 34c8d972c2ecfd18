import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The engine's core tables: generic records, their field change log, per-module
 * number sequences, versioned metadata and API keys. Indexes on metadata-marked
 * fields are not here: the engine creates them when a module is published.
 */
export class InitialSchema1764057600000 implements MigrationInterface {
  name = 'InitialSchema1764057600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE records (
        id uuid PRIMARY KEY,
        module text NOT NULL,
        number text,
        data jsonb NOT NULL DEFAULT '{}',
        owner_id text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        archived_at timestamptz,
        version integer NOT NULL DEFAULT 1
      )`);
    await runner.query(`CREATE UNIQUE INDEX records_module_number_key ON records (module, number)`);
    await runner.query(`CREATE INDEX records_module_created_idx ON records (module, created_at, id)`);
    await runner.query(`CREATE INDEX records_data_gin_idx ON records USING gin (data jsonb_path_ops)`);

    await runner.query(`
      CREATE TABLE field_changes (
        id bigserial PRIMARY KEY,
        record_id uuid NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        module text NOT NULL,
        field text NOT NULL,
        old_value jsonb,
        new_value jsonb,
        actor_id text NOT NULL,
        actor_name text NOT NULL,
        source text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await runner.query(`CREATE INDEX field_changes_record_idx ON field_changes (record_id, id)`);

    // One row per module and sequence ('number' for the record number, a field name for autonumber fields);
    // the row lock taken by the upsert serialises concurrent creates, so numbers are never shared or skipped.
    await runner.query(`
      CREATE TABLE number_sequences (
        module text NOT NULL,
        sequence text NOT NULL,
        last_value bigint NOT NULL,
        PRIMARY KEY (module, sequence)
      )`);

    await runner.query(`
      CREATE TABLE metadata_versions (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        name text NOT NULL,
        version integer NOT NULL,
        body jsonb NOT NULL,
        checksum text NOT NULL,
        author text NOT NULL,
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        active boolean NOT NULL DEFAULT false,
        UNIQUE (kind, name, version)
      )`);
    await runner.query(`CREATE UNIQUE INDEX metadata_versions_active_key ON metadata_versions (kind, name) WHERE active`);

    await runner.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        key_prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        permissions jsonb NOT NULL DEFAULT '[]',
        locked boolean NOT NULL DEFAULT false,
        bootstrap boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'metadata_versions', 'number_sequences', 'field_changes', 'records']) {
      await runner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
