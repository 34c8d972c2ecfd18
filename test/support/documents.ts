import type { TestApp } from './test-app';

type Parser = Parameters<ReturnType<TestApp['http']['get']>['parse']>[0];

/** Reads any response body into a Buffer (supertest only buffers text and JSON by itself): `.buffer(true).parse(binary)`. */
export const binary: Parser = (res, done) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

/** Whitespace of any kind (Intl puts no-break spaces in money; PDF text comes in runs) as one space. */
export const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The text of every page of a PDF, whitespace squashed. */
export async function pdfText(pdf: Buffer): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return squash(text);
}
