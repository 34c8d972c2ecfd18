import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export interface WebhookRequest {
  url: string;
  body: string;
  deliveryId: string;
  event: string;
  secret: string;
  timeoutMs: number;
  /** Hosts (names or IP addresses) allowed even though they resolve to private, loopback or link-local addresses. */
  allowedHosts: readonly string[];
}

export class WebhookError extends Error {}

/**
 * Whether an address is one a webhook must not reach by default: loopback,
 * private (RFC 1918, unique-local), link-local (cloud metadata lives there),
 * unspecified, or carrier-grade NAT.
 */
export function isInternalAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const v6 = address.toLowerCase();
  return (
    v6 === '::' ||
    v6 === '::1' ||
    v6.startsWith('fe8') ||
    v6.startsWith('fe9') ||
    v6.startsWith('fea') ||
    v6.startsWith('feb') ||
    v6.startsWith('fc') ||
    v6.startsWith('fd')
  );
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: receivers recompute it and reject old timestamps. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs a signed JSON webhook. The target's addresses are checked when the
 * connection is made (in the socket's DNS lookup), so a name that resolves to an
 * internal address — even only on the second lookup — is refused unless
 * allow-listed. Resolves with the status; a non-2xx answer or a timeout throws.
 */
export function postWebhook(request: WebhookRequest): Promise<{ status: number }> {
  const url = new URL(request.url);
  const allowed = request.allowedHosts.includes(url.hostname) || request.allowedHosts.includes(url.host);
  const guardedLookup = (
    hostname: string,
    options: object,
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, []);
      const blocked = addresses.find((a) => isInternalAddress(a.address) && !allowed && !request.allowedHosts.includes(a.address));
      if (blocked)
        return callback(
          new WebhookError(
            `refused: ${hostname} resolves to the internal address ${blocked.address}; add it to WEBHOOK_ALLOWED_HOSTS to allow it`,
          ),
          [],
        );
      const wantsAll = (options as { all?: boolean }).all;
      return wantsAll ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family);
    });
  };
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) && isInternalAddress(url.hostname.replace(/^\[|\]$/g, '')) && !allowed) {
    return Promise.reject(new WebhookError(`refused: ${url.hostname} is an internal address; add it to WEBHOOK_ALLOWED_HOSTS to allow it`));
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup as never,
        timeout: request.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(request.body),
          'user-agent': 'metacrm-webhooks',
          'x-metacrm-event': request.event,
          'x-metacrm-delivery': request.deliveryId,
          'x-metacrm-signature': signWebhook(request.secret, request.body, timestamp),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ status });
          else reject(new WebhookError(`the webhook answered ${status}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new WebhookError(`the webhook did not answer within ${request.timeoutMs} ms`)));
    req.on('error', (error) => reject(error instanceof WebhookError ? error : new WebhookError(error.message)));
    req.end(request.body);
  });
}
