import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { locateChromium } from './chromium.locator';
import { PdfFailedException, PdfUnavailableException } from './document.exception';
import type { PdfRenderer } from './pdf.renderer';

/** Flags for a server: no sandbox (containers run as root), no GPU, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

export interface ChromiumPdfOptions {
  /** CHROMIUM_PATH; unset means the usual install paths. */
  executablePath?: string;
  /** Pages printing at once; more requests wait their turn (Chromium gains nothing from more than a few per core). */
  maxPages?: number;
  /** Longest a document may take to load (default 30 s). */
  timeoutMs?: number;
  /** Longest the browser may take to start (default 30 s). */
  launchTimeoutMs?: number;
}

interface Session {
  browser: Browser;
  context: BrowserContext;
  /** Pages done with their last document, ready for the next one. */
  idle: Page[];
}

/** Documents one page prints before it is closed and replaced (bounds what a long-lived renderer accumulates). */
const USES_PER_PAGE = 500;

/**
 * PDFs from headless Chromium driven by playwright-core. One browser serves every document: it is launched on
 * the first PDF (an engine that never prints never starts it) and closed at shutdown. Each document in flight has a
 * page of its own, in a context with JavaScript off and every network request refused; `setContent` replaces the
 * page's whole document, so a page is reused for the next document rather than opened anew — opening a page costs
 * 100–200 ms (a renderer process), printing on an open one 20–60 ms. A page that failed is closed, not reused. A browser that
 * crashed or was killed is launched again on the next PDF (and a PDF it was printing is tried once more).
 * Chromium missing or not starting is a 503 saying how to enable PDF rendering; it is looked for again on the next
 * request, so installing it needs no restart.
 */
export class ChromiumPdfRenderer implements PdfRenderer, OnApplicationShutdown {
  private readonly logger = new Logger('Pdf');
  private readonly maxPages: number;
  private readonly uses = new WeakMap<Page, number>();
  private readonly timeoutMs: number;
  private session?: Promise<Session>;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: ChromiumPdfOptions = {}) {
    this.maxPages = options.maxPages ?? 4;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async render(html: string): Promise<Buffer> {
    await this.acquire();
    try {
      return await this.print(html, true);
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    try {
      await (await session).browser.close();
    } catch {
      // It never started, or is gone already.
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Whether a browser is running now (for tests and the benchmark). */
  async running(): Promise<boolean> {
    try {
      return this.session !== undefined && (await this.session).browser.isConnected();
    } catch {
      return false;
    }
  }

  private async print(html: string, mayRetry: boolean): Promise<Buffer> {
    const current = this.browser();
    const session = await current;
    let page: Page | undefined;
    let reusable = false;
    try {
      page = session.idle.pop() ?? (await session.context.newPage());
      await page.setContent(html, { waitUntil: 'load', timeout: this.timeoutMs });
      const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
      reusable = true;
      return pdf;
    } catch (error) {
      if (session.browser.isConnected()) throw new PdfFailedException(firstLine(error));
      // The browser died under us: forget it, and print once more on a new one.
      if (this.session === current) this.session = undefined;
      if (mayRetry) {
        this.logger.warn(`Chromium stopped while printing (${firstLine(error)}); starting it again`);
        return this.print(html, false);
      }
      throw new PdfUnavailableException(`Chromium stopped while printing (${firstLine(error)}).`);
    } finally {
      if (page) {
        const uses = (this.uses.get(page) ?? 0) + 1;
        this.uses.set(page, uses);
        if (reusable && uses < USES_PER_PAGE && this.session === current) session.idle.push(page);
        else await page.close().catch(() => undefined);
      }
    }
  }

  private browser(): Promise<Session> {
    if (!this.session) {
      const launching = this.launch();
      this.session = launching;
      // A failed launch is not remembered: the next PDF looks for Chromium again.
      launching.catch(() => {
        if (this.session === launching) this.session = undefined;
      });
    }
    return this.session;
  }

  private async launch(): Promise<Session> {
    const location = locateChromium(this.options.executablePath);
    if (!location.found) throw new PdfUnavailableException(location.reason);
    // Loaded on first use: an engine that never prints never loads playwright.
    const { chromium } = await import('playwright-core');
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: location.path,
        args: [...CHROMIUM_ARGS],
        timeout: this.options.launchTimeoutMs ?? 30_000,
      });
    } catch (error) {
      throw new PdfUnavailableException(`Chromium at ${location.path} did not start (${firstLine(error)}).`);
    }
    const launched = this.session;
    browser.on('disconnected', () => {
      if (this.session === launched) this.session = undefined;
    });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
      // Documents are self-contained: a template cannot make the server fetch anything (no SSRF through <img src>).
      await context.route('**/*', (route) => route.abort('blockedbyclient'));
      this.logger.log(`Chromium started for PDFs: ${location.path} (${browser.version()})`);
      return { browser, context, idle: [] };
    } catch (error) {
      await browser.close().catch(() => undefined);
      throw new PdfUnavailableException(`Chromium at ${location.path} started but did not open a page (${firstLine(error)}).`);
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.maxPages) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].slice(0, 300);
}
