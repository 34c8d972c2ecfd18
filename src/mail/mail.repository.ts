import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DATABASE, type Database, type SqlExecutor } from '../database/database';

/**
 * `queued` waits for (another) attempt, `sent` was accepted by the SMTP server, `failed` gave up (see `lastError`),
 * `kept` was never sent because no SMTP_URL is configured: it stays listed, nothing is dropped.
 */
export type MailStatus = 'queued' | 'sent' | 'failed' | 'kept';
export const MAIL_STATUSES: readonly MailStatus[] = ['queued', 'sent', 'failed', 'kept'];

export interface NewMailMessage {
  idempotencyKey?: string;
  template?: string;
  to: string[];
  cc: string[];
  subject: string;
  html: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
  status: MailStatus;
  record?: { module: string; id: string };
  workflowRunId?: string;
}

export interface MailSummary {
  id: string;
  to: string[];
  cc: string[];
  subject: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  template: string | null;
  record: { module: string; id: string } | null;
  createdAt: string;
  sentAt: string | null;
}

export interface MailDetail extends MailSummary {
  html: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
  idempotencyKey: string | null;
  workflowRunId: string | null;
}

/** A message with everything needed to send it. */
export interface MailEnvelope {
  id: string;
  status: MailStatus;
  attempts: number;
  to: string[];
  cc: string[];
  subject: string;
  html: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
}

interface StoredAttachment {
  filename: string;
  contentType: string;
  /** base64 */
  content: string;
}

interface MailRow {
  id: string;
  idempotency_key: string | null;
  template: string | null;
  to_addresses: string[];
  cc_addresses: string[];
  subject: string;
  html: string;
  text_body: string | null;
  attachments: StoredAttachment[];
  status: MailStatus;
  attempts: number;
  last_error: string | null;
  record_module: string | null;
  record_id: string | null;
  workflow_run_id: string | null;
  created_at: Date;
  sent_at: Date | null;
}

const SUMMARY_COLUMNS = `id, template, to_addresses, cc_addresses, subject, status, attempts, last_error, record_module, record_id, created_at, sent_at`;
const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

/** All SQL for `mail_messages`: the outbox of outgoing mail. */
@Injectable()
export class MailRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /**
   * Inserts the message, or, when a message with the same idempotency key exists, returns that one
   * (`created: false`). Runs on `executor` when given (the caller's transaction).
   */
  async insert(message: NewMailMessage, executor: SqlExecutor = this.db): Promise<{ id: string; status: MailStatus; created: boolean }> {
    const attachments: StoredAttachment[] = message.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content.toString('base64'),
    }));
    const inserted = await executor.query<{ id: string; status: MailStatus }>(
      `INSERT INTO mail_messages (id, idempotency_key, template, to_addresses, cc_addresses, subject, html, text_body, attachments, status,
                                  record_module, record_id, workflow_run_id)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8, $9::jsonb, $10, $11, $12, $13)
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id::text AS id, status`,
      [
        randomUUID(),
        message.idempotencyKey ?? null,
        message.template ?? null,
        JSON.stringify(message.to),
        JSON.stringify(message.cc),
        message.subject,
        message.html,
        message.text,
        JSON.stringify(attachments),
        message.status,
        message.record?.module ?? null,
        message.record?.id ?? null,
        message.workflowRunId ?? null,
      ],
    );
    if (inserted[0]) return { ...inserted[0], created: true };
    const [existing] = await executor.query<{ id: string; status: MailStatus }>(
      `SELECT id::text AS id, status FROM mail_messages WHERE idempotency_key = $1`,
      [message.idempotencyKey],
    );
    return { ...existing, created: false };
  }

  async envelope(id: string): Promise<MailEnvelope | undefined> {
    const [row] = await this.db.query<MailRow>(`SELECT * FROM mail_messages WHERE id = $1`, [id]);
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      attempts: row.attempts,
      to: row.to_addresses,
      cc: row.cc_addresses,
      subject: row.subject,
      html: row.html,
      text: row.text_body ?? '',
      attachments: row.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        content: Buffer.from(a.content, 'base64'),
      })),
    };
  }

  /**
   * Counts an attempt, only if the message is still queued with `seenAttempts` attempts: two workers holding the
   * same job cannot both claim one attempt. Returns the attempt number, or undefined when someone else has it.
   */
  async claimAttempt(id: string, seenAttempts: number): Promise<number | undefined> {
    const rows = await this.db.query<{ attempts: number }>(
      `UPDATE mail_messages SET attempts = attempts + 1 WHERE id = $1 AND status = 'queued' AND attempts = $2 RETURNING attempts`,
      [id, seenAttempts],
    );
    return rows[0]?.attempts;
  }

  async markSent(id: string): Promise<void> {
    await this.db.query(`UPDATE mail_messages SET status = 'sent', sent_at = clock_timestamp(), last_error = NULL WHERE id = $1`, [id]);
  }

  /** Records a failed attempt: the message stays queued for the next one, or is `failed` when `final`. */
  async markAttemptFailed(id: string, error: string, final: boolean): Promise<void> {
    await this.db.query(`UPDATE mail_messages SET status = $2, last_error = $3 WHERE id = $1`, [id, final ? 'failed' : 'queued', error]);
  }

  async markKept(id: string): Promise<void> {
    await this.db.query(`UPDATE mail_messages SET status = 'kept' WHERE id = $1 AND status = 'queued'`, [id]);
  }

  /** A kept or failed message back to `queued` with a fresh attempt count; false when it is in another state. */
  async requeue(id: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE mail_messages SET status = 'queued', attempts = 0 WHERE id = $1 AND status IN ('kept', 'failed') RETURNING id`,
      [id],
    );
    return rows.length > 0;
  }

  /** Messages still waiting to be sent (e.g. left by a process that stopped), oldest first. */
  async queuedIds(olderThanSeconds = 0): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM mail_messages
        WHERE status = 'queued' AND created_at <= clock_timestamp() - make_interval(secs => $1) ORDER BY created_at, id`,
      [olderThanSeconds],
    );
    return rows.map((r) => r.id);
  }

  async list(filter: { status?: MailStatus }, limit: number): Promise<MailSummary[]> {
    const rows = await this.db.query<MailRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM mail_messages WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2`,
      [filter.status ?? null, limit],
    );
    return rows.map(toSummary);
  }

  async find(id: string): Promise<MailDetail | undefined> {
    const [row] = await this.db.query<MailRow>(`SELECT * FROM mail_messages WHERE id = $1`, [id]);
    if (!row) return undefined;
    return {
      ...toSummary(row),
      html: row.html,
      text: row.text_body ?? '',
      attachments: row.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        size: Buffer.byteLength(a.content, 'base64'),
      })),
      idempotencyKey: row.idempotency_key,
      workflowRunId: row.workflow_run_id,
    };
  }
}

function toSummary(row: MailRow): MailSummary {
  return {
    id: row.id,
    to: row.to_addresses,
    cc: row.cc_addresses,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    template: row.template,
    record: row.record_module && row.record_id ? { module: row.record_module, id: row.record_id } : null,
    createdAt: iso(row.created_at)!,
    sentAt: iso(row.sent_at),
  };
}
