/** What the document service passes a tag template for an invoice, for the DOCX and XLSX renderer specs. */

export interface InvoiceLineFixture {
  description: string;
  quantity: number;
  price: number;
  discount: number;
  vat_rate: number;
  total: number;
}

/**
 * An invoice of 1,000 SEK plus 250 tax to Acme & Sons <AB> (values that need escaping), as the document service
 * hands it over: raw numbers, and the same amounts formatted. The lines, the total and the language vary.
 */
export function invoiceTemplateData<L extends string>(variant: {
  lang: L;
  total: number;
  lines: InvoiceLineFixture[];
  formatted: { total: string; lines: Array<{ price: string; total: string }> };
}) {
  const invoice = {
    number: 'INV-1001',
    subject: 'Q3 services',
    invoice_date: '2024-07-01',
    due_date: '2024-07-31',
    currency: 'SEK',
    subtotal: 1000,
    tax: 250,
    total: variant.total,
    lines: variant.lines,
  };
  return {
    invoice,
    account: { name: 'Acme & Sons <AB>', street: 'Storgatan 1', postal_code: '111 22', city: 'Stockholm' },
    record: invoice,
    lang: variant.lang,
    formatted: { subtotal: '1 000,00 kr', tax: '250,00 kr', ...variant.formatted },
  };
}

/** The five predefined XML entities back to their characters. */
export function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
