/**
 * Turns an HTML document into a PDF. The engine has one driver, {@link ChromiumPdfRenderer} (headless Chromium
 * through playwright-core); tests and other deployments may bind another to {@link PDF_RENDERER}.
 *
 * A driver that cannot print (no browser installed, a browser that will not start) throws a
 * `PdfUnavailableException` (503) telling the admin how to enable PDF rendering.
 */
export interface PdfRenderer {
  /** Prints `html` (a complete document; it loads nothing from the network and runs no script) on A4 pages. */
  render(html: string): Promise<Buffer>;
  /** Frees the browser (or whatever the driver holds); rendering again starts it anew. */
  close(): Promise<void>;
}

/** Nest injection token for the {@link PdfRenderer}. */
export const PDF_RENDERER = Symbol('PDF_RENDERER');
