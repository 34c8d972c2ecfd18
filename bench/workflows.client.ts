/**
 * The latency client of `bench:workflows`, in a child process of its own (like the autocannon load
 * generator), so its timestamps are not held up by the engine's event loop. It POSTs creates and
 * reports, per save, the wall-clock time the request was sent and the time its response arrived —
 * the same clock PostgreSQL's `clock_timestamp()` reads on this machine, so they compare with the
 * run's `finished_at`.
 *
 * Two modes: `closed` (N clients, each sending its next save as soon as the previous one answered)
 * and `paced` (an open loop: saves sent at a fixed rate whatever the answers, so a slow engine does
 * not slow the arrivals down and hide its latency).
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { ChildRunner, serveChild } from './child-runner';

export interface SaveSpec {
  /** Full URL of the create endpoint, e.g. http://127.0.0.1:1234/api/v1/bench_tickets. */
  url: string;
  headers: Record<string, string>;
  /** The record to create; `name` gets a sequence number appended. */
  body: Record<string, unknown>;
  saves: number;
  mode: 'closed' | 'paced';
  /** closed: concurrent clients. */
  clients?: number;
  /** paced: saves per second. */
  rate?: number;
}

export interface SaveSample {
  /** The created record's id (undefined when the save failed). */
  id?: string;
  status: number;
  /** Epoch ms when the request was sent. */
  start: number;
  /** Epoch ms when the whole response had arrived. */
  end: number;
}

export interface SaveRun {
  samples: SaveSample[];
  /** Epoch ms of the first send and of the last answer. */
  startedAt: number;
  endedAt: number;
}

function post(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function runSaves(spec: SaveSpec): Promise<SaveRun> {
  const url = new URL(spec.url);
  const maxSockets = spec.mode === 'closed' ? (spec.clients ?? 10) : 256;
  const agent = new Agent({ keepAlive: true, maxSockets });
  const samples: SaveSample[] = new Array(spec.saves);
  const one = async (i: number) => {
    const body = JSON.stringify({ ...spec.body, name: `${String(spec.body.name)} #${i + 1}` });
    const start = Date.now();
    try {
      const { status, text } = await post(agent, url, spec.headers, body);
      const end = Date.now();
      const id = status < 300 ? (JSON.parse(text) as { data: { id: string } }).data.id : undefined;
      samples[i] = { id, status, start, end };
    } catch {
      samples[i] = { status: 0, start, end: Date.now() };
    }
  };
  const startedAt = Date.now();
  if (spec.mode === 'closed') {
    let next = 0;
    const client = async () => {
      while (next < spec.saves) await one(next++);
    };
    await Promise.all(Array.from({ length: spec.clients ?? 10 }, client));
  } else {
    const interval = 1000 / (spec.rate ?? 50);
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < spec.saves; i++) {
      const due = startedAt + i * interval;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((done) => setTimeout(done, wait));
      inFlight.push(one(i));
    }
    await Promise.all(inFlight);
  }
  agent.destroy();
  return { samples, startedAt, endedAt: Math.max(...samples.map((s) => s.end)) };
}

/** The parent's handle on the latency client process. */
export type SaveClient = ChildRunner<SaveSpec, SaveRun>;
export const SaveClient = {
  start: (): SaveClient => ChildRunner.start(join(__dirname, 'workflows.client.js'), 'latency client'),
};

if (require.main === module && process.argv.includes('--child')) serveChild(runSaves);
