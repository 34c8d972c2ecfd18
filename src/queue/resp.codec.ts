/**
 * The Redis wire protocol (RESP2), as much as a client needs: commands are
 * encoded as arrays of bulk strings, replies are parsed incrementally from
 * socket chunks. Bulk strings are decoded as UTF-8 (BullMQ's replies are text);
 * arguments may be Buffers (BullMQ sends msgpack).
 */

export type RespArg = string | number | Buffer;
export type RespValue = string | number | null | RedisReplyError | RespValue[];

/** An error reply (`-ERR …`): a value inside a MULTI/EXEC answer, a rejection otherwise. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

const CRLF = Buffer.from('\r\n');

export function encodeCommand(args: readonly RespArg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

interface Parsed {
  value: RespValue;
  next: number;
}

/**
 * Feeds on socket chunks and calls `onReply` once per complete reply, in order.
 * An incomplete reply stays buffered until the rest arrives.
 */
export class RespParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onReply: (value: RespValue) => void) {}

  feed(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = parseValue(this.buffer, offset);
      if (!parsed) break;
      offset = parsed.next;
      this.onReply(parsed.value);
    }
    this.buffer = offset >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }
}

function parseValue(buf: Buffer, offset: number): Parsed | undefined {
  if (offset >= buf.length) return undefined;
  const lineEnd = buf.indexOf(CRLF, offset + 1);
  if (lineEnd < 0) return undefined;
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (buf[offset]) {
    case 0x2b: // + simple string
      return { value: line, next };
    case 0x2d: // - error
      return { value: new RedisReplyError(line), next };
    case 0x3a: // : integer
      return { value: Number(line), next };
    case 0x24: {
      // $ bulk string
      const length = Number(line);
      if (length < 0) return { value: null, next };
      const end = next + length;
      if (buf.length < end + 2) return undefined;
      return { value: buf.toString('utf8', next, end), next: end + 2 };
    }
    case 0x2a: {
      // * array
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseValue(buf, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`Redis protocol error: unexpected reply type "${String.fromCharCode(buf[offset])}"`);
  }
}
