import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RawSql } from './raw-sql';

/**
 * The baseline: a minimal `node:http` server doing the same operations with one raw
 * SQL statement each and no framework, validation, numbering or change log. It speaks
 * the engine's URLs for the one module the bench uses, so the same load hits both.
 *
 *   POST /api/v1/opportunities                     one INSERT ... RETURNING
 *   GET  /api/v1/opportunities/:id                 SELECT by id
 *   GET  /api/v1/opportunities[?filter[stage][eq]=v][&cursor=c]
 *                                                  the engine's list SQL (default sort -createdAt)
 */
const COLUMNS = 'id, module, number, data, owner_id, created_by, created_at, updated_at, archived_at, version';
const MODULE = 'opportunities';
const PAGE = 50;

export interface RawServer {
  url: string;
  close(): Promise<void>;
}

export async function startRawServer(sql: RawSql): Promise<RawServer> {
  const server = createServer((req, res) => {
    handle(sql, req, res).catch((error: Error) => send(res, 500, { error: error.message }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => closeServer(server),
  };
}

async function handle(sql: RawSql, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts.length < 3 || parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== MODULE) return send(res, 404, { error: 'not found' });

  if (req.method === 'POST' && parts.length === 3) {
    const data = JSON.parse(await readBody(req)) as Record<string, unknown>;
    const rows = await sql.query(
      `INSERT INTO records (id, module, data, owner_id, created_by) VALUES ($1::uuid, '${MODULE}', $2::jsonb, $3, $3) RETURNING ${COLUMNS}`,
      [randomUUID(), JSON.stringify(data), 'bench-baseline'],
    );
    return send(res, 201, { data: rows[0] });
  }
  if (req.method === 'GET' && parts.length === 4) {
    const rows = await sql.query(`SELECT ${COLUMNS} FROM records WHERE id = $1::uuid AND module = '${MODULE}'`, [parts[3]]);
    return rows.length === 0 ? send(res, 404, { error: 'not found' }) : send(res, 200, { data: rows[0] });
  }
  if (req.method === 'GET' && parts.length === 3) {
    const params: unknown[] = [];
    const where = [`module = '${MODULE}'`];
    const stage = url.searchParams.get('filter[stage][eq]');
    if (stage !== null) {
      params.push(stage);
      where.push(`(data->>'stage') = $${params.length}::text`);
    }
    where.push('archived_at IS NULL');
    const cursor = url.searchParams.get('cursor');
    if (cursor !== null) {
      const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v: string[]; id: string };
      params.push(decoded.v[0], decoded.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    const rows = await sql.query<{ id: string; _s0: string }>(
      `SELECT ${COLUMNS}, (created_at)::text AS _s0 FROM records WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${PAGE + 1}`,
      params,
    );
    const page = rows.slice(0, PAGE);
    const last = page[page.length - 1];
    const nextCursor =
      rows.length > PAGE ? Buffer.from(JSON.stringify({ s: '-createdAt', v: [last._s0], id: last.id })).toString('base64url') : null;
    return send(res, 200, { data: page, page: { limit: PAGE, nextCursor } });
  }
  return send(res, 404, { error: 'not found' });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
