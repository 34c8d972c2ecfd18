import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeWithChromium } from '../../test/support/chromium';
import { pdfText } from '../../test/support/documents';
import { locateChromium } from './chromium.locator';
import { ChromiumPdfRenderer } from './chromium-pdf.renderer';
import { PdfFailedException, PdfUnavailableException } from './document.exception';

/** The pids of this process's children named like a Chromium (the browser playwright launched for us). */
function ownChromiumPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && /chrom/i.test(comm ?? ''))
    .map(([pid]) => Number(pid));
}

describe(ChromiumPdfRenderer.name, () => {
  it('without Chromium: a 503 saying how to enable PDF rendering', async () => {
    const renderer = new ChromiumPdfRenderer({ executablePath: '/nonexistent/chromium' });
    const error = await renderer.render('<p>x</p>').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PdfUnavailableException);
    expect(error).toMatchObject({
      status: 503,
      code: 'pdf_unavailable',
      detail: expect.stringContaining(
        'PDF rendering needs Chromium: install it (Debian: apt-get install chromium-headless-shell, or chromium) or set CHROMIUM_PATH.',
      ),
    });
    expect(await renderer.running()).toBe(false);
  });

  it('a CHROMIUM_PATH that is no executable is reported, not replaced by another browser', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chromium-'));
    const notExecutable = join(dir, 'chromium');
    writeFileSync(notExecutable, '', { mode: 0o644 });
    try {
      expect(locateChromium(notExecutable, ['/bin/sh'])).toEqual({
        found: false,
        reason: `CHROMIUM_PATH is "${notExecutable}", which is not an executable file.`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(locateChromium(undefined, ['/nonexistent/a', '/bin/sh'])).toEqual({ found: true, path: '/bin/sh' });
    expect(locateChromium(undefined, ['/nonexistent/a'])).toEqual({ found: false, reason: 'No Chromium at /nonexistent/a.' });
  });

  describeWithChromium('with Chromium', () => {
    let renderer: ChromiumPdfRenderer;
    let server: Server;
    let hits = 0;
    beforeAll(async () => {
      renderer = new ChromiumPdfRenderer({ executablePath: process.env.CHROMIUM_PATH, maxPages: 2 });
      server = createServer((_req, res) => {
        hits++;
        res.end('x');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await renderer.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('starts the browser on the first PDF and prints A4 pages', async () => {
      expect(await renderer.running()).toBe(false);
      const pdf = await renderer.render('<!doctype html><h1>Hello</h1>');
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 595\.9\d* 842\.\d+\]/);
      expect(await renderer.running()).toBe(true);
    });

    it('prints many at once, each its own document, on at most maxPages pages', async () => {
      const pdfs = await Promise.all(Array.from({ length: 6 }, (_, i) => renderer.render(`<p>Document number ${i}</p>`)));
      const texts = await Promise.all(pdfs.map(pdfText));
      expect(texts).toEqual([0, 1, 2, 3, 4, 5].map((i) => `Document number ${i}`));
    });

    it('fetches nothing a document points to (no network, no local files), and runs no script', async () => {
      const port = (server.address() as AddressInfo).port;
      const pdf = await renderer.render(
        `<img src="http://127.0.0.1:${port}/logo.png"><link rel="stylesheet" href="http://127.0.0.1:${port}/a.css">` +
          `<iframe src="http://127.0.0.1:${port}/frame"></iframe><script>fetch('http://127.0.0.1:${port}/script')</script>` +
          '<iframe src="file:///etc/passwd" width="600" height="300"></iframe><p>ok</p>',
      );
      expect(await pdfText(pdf)).toBe('ok');
      expect(hits).toBe(0);
    });

    it('a browser that died is started again on the next PDF', async () => {
      await renderer.render('<p>before</p>');
      const pids = ownChromiumPids();
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const pdf = await renderer.render('<p>after</p>');
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(await renderer.running()).toBe(true);
      expect(ownChromiumPids().some((pid) => !pids.includes(pid))).toBe(true);
    });

    it('a document that does not load in time is a 503 worth a retry', async () => {
      const slow = new ChromiumPdfRenderer({ executablePath: process.env.CHROMIUM_PATH, timeoutMs: 1 });
      try {
        await slow.render('<p>warm</p>').catch(() => undefined);
        const error = await slow.render(`<p>${'slow '.repeat(50000)}</p>`).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PdfFailedException);
        expect(error).toMatchObject({
          status: 503,
          code: 'pdf_failed',
          detail: expect.stringMatching(/^Chromium could not print the document \(/),
        });
      } finally {
        await slow.close();
      }
    });

    it('close() stops the browser; printing again starts it anew', async () => {
      await renderer.close();
      expect(await renderer.running()).toBe(false);
      expect(ownChromiumPids()).toEqual([]);
      await renderer.render('<p>again</p>');
      expect(await renderer.running()).toBe(true);
    });
  });
});
