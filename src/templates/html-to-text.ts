// Blocks that stand apart as paragraphs (a blank line around them), and ones that only start a new line.
const PARAGRAPH = /<\/?(p|h[1-6]|table|ul|ol|blockquote|section|article|header|footer)\b[^>]*>/gi;
const LINE = /<\/?(div|tr|li)\b[^>]*>/gi;
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  euro: '€',
  copy: '©',
};

/**
 * The plain-text alternative of an HTML mail body: whitespace runs collapse as in HTML; paragraphs, tables and lists
 * stand apart by a blank line, rows, divs, list items and `<br>` start a new line, table cells are separated by tabs; `<style>`/`<script>`/`<head>` contents and every other tag are dropped, entities decoded
 * (once, after the tags are gone, so an escaped `&lt;script&gt;` stays text) and blank runs collapsed.
 * Deliberately simple: mail templates are our own small HTML, not arbitrary pages.
 */
export function htmlToText(html: string): string {
  const withoutTags = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(style|script|head|title)\b[\s\S]*?<\/\1\s*>/gi, '')
    // HTML whitespace: any run is one space; only tags break lines.
    .replace(/[ \t\r\n\f]+/g, ' ')
    .replace(/<li\b[^>]*>/gi, '\u0001- ')
    .replace(PARAGRAPH, '\u0002')
    .replace(LINE, '\u0001')
    // A run of block boundaries is one break: a blank line if a paragraph is among them, else a line break.
    .replace(/[ \t]*[\u0001\u0002][\u0001\u0002 \t]*/g, (run) => (run.includes('\u0002') ? '\n\n' : '\n'))
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/t[dh]\s*>/gi, '\t')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(withoutTags)
    .split('\n')
    .map((line) => line.replace(/[ \t]*\t[ \t]*/g, '\t').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);/gi, (entity, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}
