import { createTransport, type Transporter } from 'nodemailer';

/** One message as the transport sends it. */
export interface OutgoingMail {
  /** The `mail_messages` id; also the Message-ID's local part, so a receiver can spot a re-delivery. */
  id: string;
  to: string[];
  cc: string[];
  subject: string;
  html: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
}

/**
 * The mail transport port: hands one message to a mail server. Drivers: {@link SmtpMailTransport} (SMTP_URL).
 * Without SMTP_URL there is no transport, and messages are kept in the outbox (status `kept`) instead of sent.
 * A failure is a {@link MailSendError}; `permanent` says whether trying again could help.
 */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): Promise<void>;
}

/** Nest injection token for the {@link MailTransport}, or `null` when no SMTP_URL is configured. */
export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

export class MailSendError extends Error {
  constructor(
    message: string,
    /** The server refused for good (an SMTP 5xx reply): retrying sends nothing. */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'MailSendError';
  }
}

/** Sends over SMTP with nodemailer (one connection per message; `smtp://` with STARTTLS when offered, `smtps://` TLS). */
export class SmtpMailTransport implements MailTransport {
  private readonly transporter: Transporter;
  private readonly domain: string;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    // Bounded waits: a stuck server must fail the attempt (and be retried), not hold a queue slot for minutes.
    this.transporter = createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
    this.domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'metacrm.invalid';
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    try {
      const info = await this.transporter.sendMail({
        from: this.from,
        to: mail.to,
        cc: mail.cc.length > 0 ? mail.cc : undefined,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        attachments: mail.attachments,
        messageId: `<${mail.id}@${this.domain}>`,
      });
      return { messageId: String(info.messageId) };
    } catch (error) {
      const e = error as Error & { responseCode?: number };
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
      throw new MailSendError(e.message, permanent);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
