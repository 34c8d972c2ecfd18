import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { SqlExecutor } from '../database/database';
import { JOB_QUEUE, type JobQueue } from '../queue/job-queue';
import { TemplateStore } from '../templates/template.store';
import { checkMailInput, type QueueMailInput } from './mail-input';
import { MAIL_TRANSPORT, MailSendError, type MailTransport } from './mail-transport';
import { MailNotFoundException, MailNotRetryableException, MailValidationException } from './mail.exception';
import { MailRepository, type MailDetail, type MailStatus, type MailSummary } from './mail.repository';

/** Attempts per message before it is `failed` (the queue retries with exponential backoff in between). */
export const MAX_MAIL_ATTEMPTS = 5;
const LIST_LIMIT = 100;
/** How often queued messages are handed to the queue again, and how old a queued message must be for that. */
const REDISPATCH_EVERY_MS = 30_000;
const STRANDED_AFTER_SECONDS = 60;

export interface QueuedMail {
  id: string;
  status: MailStatus;
  /** False when a message with the same idempotency key already existed (that one is returned). */
  created: boolean;
}

/**
 * The mail outbox. Every message is rendered from a template and stored in `mail_messages` first; a `mail.send`
 * job then hands it to the transport, retrying through the queue. Without SMTP_URL there is no transport and
 * messages are `kept` (listed, never silently dropped). Sending is at-least-once: a message is skipped once it is
 * `sent`, but a process that dies between the server's acceptance and the status update sends it again at restart.
 */
@Injectable()
export class MailService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly messages: MailRepository,
    private readonly templates: TemplateStore,
    @Inject(JOB_QUEUE) private readonly jobs: JobQueue,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport | null,
  ) {
    jobs.handle('mail.send', ({ messageId }) => this.send(messageId));
  }

  /**
   * Messages a stopped process left queued go back in the queue: at start, and every 30 s those queued for over a
   * minute (a process that stopped between the commit of a message and its dispatch, say). Dispatching a message
   * whose job is still queued, running or waiting for a retry adds nothing: the job key is the message id.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.redispatch(0);
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(
      () => void this.redispatchStranded().catch((e: Error) => this.logger.warn(`Re-queueing mail failed: ${e.message}`)),
      REDISPATCH_EVERY_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Hands every message queued for over a minute to the queue again (the 30-second poll). */
  redispatchStranded(): Promise<void> {
    return this.redispatch(STRANDED_AFTER_SECONDS);
  }

  private async redispatch(olderThanSeconds: number): Promise<void> {
    for (const id of await this.messages.queuedIds(olderThanSeconds)) await this.dispatch(id);
  }

  /**
   * Renders `input.template` and stores the message. With an `executor` (the caller's transaction) the message is
   * written there and NOT handed to the queue: call {@link dispatch} after the commit. Without one it is queued at
   * once. A second call with the same `idempotencyKey` returns the first message and queues nothing.
   */
  async queue(input: QueueMailInput, executor?: SqlExecutor): Promise<QueuedMail> {
    const { errors, to, cc } = checkMailInput(input);
    if (errors.length > 0) throw new MailValidationException(errors);
    const rendered = this.templates.render(input.template, input.data, { lang: input.lang });
    const result = await this.messages.insert(
      {
        idempotencyKey: input.idempotencyKey,
        template: input.template,
        to,
        cc,
        ...rendered,
        attachments: input.attachments ?? [],
        status: this.transport ? 'queued' : 'kept',
        record: input.record,
        workflowRunId: input.workflowRunId,
      },
      executor,
    );
    if (result.created && result.status === 'queued' && !executor) await this.dispatch(result.id);
    return result;
  }

  /** Hands a stored message to the queue (again); harmless for a message that is already sent. */
  async dispatch(messageId: string): Promise<void> {
    await this.jobs.enqueue('mail.send', { messageId }, `mail:${messageId}`);
  }

  /** The `mail.send` job: one attempt. Throws to have the queue retry; records the outcome either way. */
  async send(messageId: string): Promise<void> {
    const message = await this.messages.envelope(messageId);
    if (!message || message.status !== 'queued') return;
    if (!this.transport) return this.messages.markKept(messageId);
    const attempt = await this.messages.claimAttempt(messageId, message.attempts);
    if (attempt === undefined) return;
    try {
      await this.transport.send(message);
      await this.messages.markSent(messageId);
    } catch (error) {
      const reason = (error as Error).message.slice(0, 2000);
      const final = (error instanceof MailSendError && error.permanent) || attempt >= MAX_MAIL_ATTEMPTS;
      await this.messages.markAttemptFailed(messageId, reason, final);
      if (final) {
        this.logger.error(`Mail ${messageId} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${reason}`);
        return;
      }
      throw error;
    }
  }

  /** Newest first, at most 100. */
  list(filter: { status?: MailStatus }): Promise<MailSummary[]> {
    return this.messages.list(filter, LIST_LIMIT);
  }

  async get(id: string): Promise<MailDetail> {
    const message = await this.messages.find(id);
    if (!message) throw new MailNotFoundException(id);
    return message;
  }

  /** Sends a kept or failed message again (e.g. after SMTP_URL was configured), with a fresh attempt count. */
  async retry(id: string): Promise<MailDetail> {
    const message = await this.get(id);
    if (!(await this.messages.requeue(id))) throw new MailNotRetryableException(id, message.status);
    await this.dispatch(id);
    return this.get(id);
  }
}
