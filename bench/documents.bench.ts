/**
 * `npm run bench:documents`: documents per second for a 20-line invoice rendered as HTML, PDF and DOCX.
 *
 * Starts the engine in-process (embedded PGlite in memory, or PostgreSQL with DATABASE_URL in its own schema
 * BENCH_SCHEMA, default bench_documents, dropped before and after), creates an account, 20 products and an invoice
 * with 20 lines, and calls `DocumentService.render` — what the endpoint does, without HTTP: read the record and its
 * related records, build the data, render — in a loop:
 *
 * - HTML: BENCH_HTML=2000 documents, one at a time;
 * - PDF: BENCH_PDFS=200 documents per concurrency in BENCH_PDF_CONCURRENCY=1,2,4 (pages printing at once on the one
 *   browser, which is launched once, before the measured runs);
 * - DOCX: BENCH_DOCX=1000 documents, one at a time (when a DOCX template for the invoice is installed).
 *
 * Each run is preceded by a few unmeasured warm-up documents. Prints documents/s, mean and p95 latency per run, and
 * PASS/FAIL for the target: at least 20 PDFs/s (best of concurrency 2–4) on a 2-core machine. Without Chromium the
 * PDF runs are skipped with the reason (the target is then not judged). Exits 1 when a render fails.
 */
import { benchConfig, benchSchema, intEnv, log, startBenchEngine } from './bench.env';
import { cpus, loadavg } from 'node:os';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Pool } from 'pg';
import { SYSTEM_CONTEXT } from '../src/common/request-context';
import { locateChromium } from '../src/documents/chromium.locator';
import { DocumentTemplateStore } from '../src/documents/document-template.store';
import { DocumentService } from '../src/documents/document.service';
import { RecordService } from '../src/records/record.service';

const PDF_TARGET = 20;
const LINES = 20;

function listEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be integers >= 1 separated by commas, got "${raw}"`);
  return values;
}

interface Run {
  name: string;
  documents: number;
  seconds: number;
  latencies: number[];
  bytes: number;
}

/** Renders `count` documents with `concurrency` in flight, after `warmup` unmeasured ones. */
async function measure(name: string, count: number, concurrency: number, warmup: number, render: () => Promise<number>): Promise<Run> {
  for (let i = 0; i < warmup; i++) await render();
  const latencies: number[] = [];
  let next = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      next++;
      const t0 = process.hrtime.bigint();
      const size = await render();
      bytes += size;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { name, documents: count, seconds, latencies, bytes };
}

function row(run: Run): string {
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
  const rate = run.documents / run.seconds;
  return [
    run.name.padEnd(26),
    String(run.documents).padStart(6),
    rate.toFixed(1).padStart(10),
    mean.toFixed(1).padStart(9),
    p95.toFixed(1).padStart(9),
    `${(run.bytes / run.documents / 1024).toFixed(1)} kB`.padStart(10),
  ].join('  ');
}

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = benchSchema('bench_documents');
  const htmlCount = intEnv('BENCH_HTML', 2000);
  const pdfCount = intEnv('BENCH_PDFS', 200);
  const docxCount = intEnv('BENCH_DOCX', 1000);
  const concurrencies = listEnv('BENCH_PDF_CONCURRENCY', [1, 2, 4]);

  const dropSchema = async () => {
    if (!databaseUrl) return;
    const pool = new Pool({ connectionString: databaseUrl, max: 1 });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await pool.end();
    }
  };

  let app: NestExpressApplication | undefined;
  try {
    await dropSchema();
    const config = benchConfig(databaseUrl, schema, 'templates/documents');
    app = (await startBenchEngine(config, false)).app;
    const records = app.get(RecordService);
    const documents = app.get(DocumentService);
    const ctx = SYSTEM_CONTEXT;

    const cores = cpus().length;
    log(`documents bench: ${databaseUrl ? `PostgreSQL (schema ${schema})` : 'embedded PGlite, in memory'}, node ${process.version}`);
    log(
      `${cores} cores (${cpus()[0]?.model.trim()}); load average before the run: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' / ')}`,
    );

    const account = await records.create(ctx, 'accounts', {
      name: 'Nordic Timber AB',
      type: 'customer',
      street: 'Storgatan 1',
      city: 'Umeå',
    });
    const lines = [];
    for (let i = 1; i <= LINES; i++) {
      const product = await records.create(ctx, 'products', { name: `Product ${i}`, code: `P-${i}`, unit_price: 10 * i });
      lines.push({
        product: product.id,
        description: `Line ${i}: pine boards, planed, ${i * 3} m`,
        quantity: i,
        price: 10 * i,
        vat_rate: 25,
      });
    }
    const invoice = await records.create(ctx, 'invoices', {
      subject: 'Timber',
      account: account.id,
      currency: 'SEK',
      invoice_date: '2026-03-01',
      due_date: '2026-03-31',
      lines,
    });
    log(`invoice ${invoice.number}: ${LINES} lines, total ${String(invoice.total)} SEK`);
    log();

    const render =
      (format: string, lang = 'en') =>
      async () => {
        const document = await documents.render(ctx, 'invoices', invoice.id, 'invoice', format, lang);
        return typeof document.body === 'string' ? Buffer.byteLength(document.body) : document.body.length;
      };
    const runs: Run[] = [];
    log(`HTML: ${htmlCount} documents...`);
    runs.push(await measure('HTML', htmlCount, 1, 50, render('html')));

    const chromium = locateChromium(config.chromiumPath);
    const pdfRates: Array<{ concurrency: number; rate: number }> = [];
    if (chromium.found) {
      log(`PDF: Chromium ${chromium.path}; launching it (once) and warming up...`);
      const t0 = Date.now();
      await render('pdf')();
      log(`  first PDF, browser launch included: ${Date.now() - t0} ms`);
      for (const concurrency of concurrencies) {
        log(`PDF: ${pdfCount} documents, ${concurrency} at once...`);
        const run = await measure(`PDF (concurrency ${concurrency})`, pdfCount, concurrency, 2 * concurrency, render('pdf'));
        runs.push(run);
        pdfRates.push({ concurrency, rate: run.documents / run.seconds });
      }
    } else {
      log(`PDF: skipped — ${chromium.reason} Install Chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
    }

    if (app.get(DocumentTemplateStore).get('invoice')?.binaries.docx) {
      log(`DOCX: ${docxCount} documents...`);
      runs.push(await measure('DOCX', docxCount, 1, 20, render('docx')));
    } else {
      log('DOCX: skipped — no templates/documents/invoice.docx (or no DOCX renderer) in this build.');
    }

    log();
    log(
      ['run'.padEnd(26), 'docs'.padStart(6), 'docs/s'.padStart(10), 'mean ms'.padStart(9), 'p95 ms'.padStart(9), 'size'.padStart(10)].join(
        '  ',
      ),
    );
    for (const run of runs) log(row(run));
    log();
    const judged = pdfRates.filter((r) => r.concurrency >= 2 && r.concurrency <= 4);
    if (judged.length === 0) {
      log(`target >= ${PDF_TARGET} PDFs/s: not judged (no PDF run with concurrency 2-4)`);
    } else {
      const best = judged.reduce((a, b) => (b.rate > a.rate ? b : a));
      const verdict = best.rate >= PDF_TARGET ? 'PASS' : 'FAIL';
      log(
        `target >= ${PDF_TARGET} PDFs/s on 2 cores: ${verdict} — best ${best.rate.toFixed(1)} PDFs/s at concurrency ${best.concurrency}` +
          (cores !== 2 ? ` (this machine has ${cores} cores)` : ''),
      );
    }
    return 0;
  } finally {
    await app?.close();
    await dropSchema();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
