import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message as the SMTP server received it. */
export interface ReceivedMail {
  from: string;
  rcpt: string[];
  raw: string;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`: pass as `smtpUrl`. */
  url: string;
  received: ReceivedMail[];
  /** RCPT TO addresses the server was offered (accepted or not), in order. */
  rcptSeen: string[];
  close(): Promise<void>;
}

/** Recipients at this domain are refused for now (451, try again later). */
export const TEMP_FAIL_DOMAIN = 'temp-fail.example.com';
/** Recipients at this domain are refused for good (550). */
export const PERM_FAIL_DOMAIN = 'perm-fail.example.com';

/**
 * A real SMTP server on a random port (no TLS, no auth) that keeps every message it accepts. Recipients at
 * {@link TEMP_FAIL_DOMAIN} get a 451, at {@link PERM_FAIL_DOMAIN} a 550; every other one is accepted.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const rcptSeen: string[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      rcptSeen.push(address.address);
      const code = address.address.endsWith(`@${TEMP_FAIL_DOMAIN}`) ? 451 : address.address.endsWith(`@${PERM_FAIL_DOMAIN}`) ? 550 : 0;
      if (code === 0) return callback();
      callback(Object.assign(new Error(code === 451 ? 'Mailbox busy, try later' : 'No such user here'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    rcptSeen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A MIME part: headers (names lower-case, encoded words decoded), the decoded body as bytes, and sub-parts. */
export interface MimePart {
  headers: Record<string, string>;
  content: Buffer;
  parts: MimePart[];
}

/** Reads a message as nodemailer writes it (mailparser is not a dependency): multipart, base64, quoted-printable. */
export function parseMime(raw: string): MimePart {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1)
      .filter((part) => !part.startsWith('--'))
      .map((part) => parseMime(part.replace(/^\r\n/, '')));
    return { headers, content: Buffer.alloc(0), parts };
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const content =
    encoding === 'quoted-printable'
      ? quotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
        : Buffer.from(body, 'latin1');
  return { headers, content, parts: [] };
}

/** Every leaf part, depth first. */
export const leaves = (part: MimePart): MimePart[] => (part.parts.length === 0 ? [part] : part.parts.flatMap(leaves));

/** The first leaf whose content type starts with `type`, e.g. `text/html`. */
export const partOf = (mail: MimePart, type: string) => leaves(mail).find((p) => (p.headers['content-type'] ?? '').startsWith(type));

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : quotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function quotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  const input = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < input.length; i++) {
    if (input[i] === '=' && /^[0-9A-F]{2}$/i.test(input.slice(i + 1, i + 3))) {
      bytes.push(parseInt(input.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(input.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
