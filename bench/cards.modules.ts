/**
 * The two modules `bench:cards` compares: `bench_plain` (plain fields only) and `bench_rich` (the same
 * fields plus 20 formula fields and 20 dynamic-field rules), and the record both are saved with.
 *
 * No relation fields on purpose: a relation makes the create run in a transaction with a reference
 * check, which would add database work unrelated to formulas and rules.
 */

export const PLAIN_MODULE = 'bench_plain';
export const RICH_MODULE = 'bench_rich';

const label = (en: string, sv: string) => ({ en, sv });

/** 26 plain fields (one of them a lines field), identical in both modules. */
const PLAIN_FIELDS: Record<string, Record<string, unknown>> = {
  name: { type: 'text', label: label('Name', 'Namn'), required: true, maxLength: 200 },
  code: { type: 'text', label: label('Code', 'Kod'), maxLength: 50 },
  first_name: { type: 'text', label: label('First name', 'Förnamn'), maxLength: 100 },
  last_name: { type: 'text', label: label('Last name', 'Efternamn'), maxLength: 100 },
  email: { type: 'email', label: label('Email', 'E-post') },
  phone: { type: 'phone', label: label('Phone', 'Telefon') },
  website: { type: 'url', label: label('Website', 'Webbplats') },
  status: {
    type: 'picklist',
    label: label('Status', 'Status'),
    options: ['draft', 'active', 'on_hold', 'closed'],
    default: 'draft',
    trackChanges: true,
  },
  priority: { type: 'picklist', label: label('Priority', 'Prioritet'), options: ['low', 'normal', 'high', 'urgent'], default: 'normal' },
  category: { type: 'picklist', label: label('Category', 'Kategori'), options: ['products', 'services', 'licences', 'support'] },
  tags: { type: 'multipicklist', label: label('Tags', 'Taggar'), options: ['new', 'returning', 'partner', 'public_sector', 'export'] },
  country: { type: 'picklist', label: label('Country', 'Land'), options: ['SE', 'NO', 'DK', 'FI', 'DE', 'GB', 'US'] },
  quantity: { type: 'integer', label: label('Quantity', 'Antal'), min: 0 },
  unit_price: { type: 'currency', label: label('Unit price', 'À-pris'), min: 0, trackChanges: true },
  discount: { type: 'percent', label: label('Discount', 'Rabatt'), min: 0, max: 100, default: 0 },
  vat_rate: { type: 'percent', label: label('VAT rate', 'Momssats'), min: 0, max: 100, default: 25 },
  weight: { type: 'decimal', label: label('Weight (kg)', 'Vikt (kg)'), min: 0 },
  invoice_date: { type: 'date', label: label('Invoice date', 'Fakturadatum') },
  payment_terms: { type: 'integer', label: label('Payment terms (days)', 'Betalningsvillkor (dagar)'), min: 0, max: 365, default: 30 },
  start_date: { type: 'date', label: label('Start date', 'Startdatum') },
  end_date: { type: 'date', label: label('End date', 'Slutdatum') },
  active: { type: 'boolean', label: label('Active', 'Aktiv'), default: true },
  confidential: { type: 'boolean', label: label('Confidential', 'Konfidentiell'), default: false },
  notes: { type: 'textarea', label: label('Notes', 'Anteckningar'), maxLength: 5000 },
  closed_reason: { type: 'textarea', label: label('Reason closed', 'Anledning till avslut'), maxLength: 2000 },
  lines: {
    type: 'lines',
    label: label('Lines', 'Rader'),
    fields: {
      product_name: { type: 'text', label: label('Product', 'Produkt'), maxLength: 200 },
      quantity: { type: 'decimal', label: label('Quantity', 'Antal'), min: 0, default: 1 },
      price: { type: 'currency', label: label('Unit price', 'À-pris') },
      vat_rate: { type: 'percent', label: label('VAT rate', 'Momssats'), min: 0, max: 100 },
    },
  },
};

/** 20 formula fields: arithmetic (some chained), lines sums, text, conditionals, lookups, dates. */
const FORMULA_FIELDS: Record<string, Record<string, unknown>> = {
  f_net: { type: 'currency', label: label('Net', 'Netto'), formula: 'quantity * unit_price' },
  f_discount_amount: { type: 'currency', label: label('Discount amount', 'Rabattbelopp'), formula: 'f_net * discount / 100' },
  f_net_after_discount: {
    type: 'currency',
    label: label('Net after discount', 'Netto efter rabatt'),
    formula: 'f_net - f_discount_amount',
  },
  f_vat: { type: 'currency', label: label('VAT', 'Moms'), formula: 'f_net_after_discount * vat_rate / 100' },
  f_gross: { type: 'currency', label: label('Gross', 'Brutto'), formula: 'f_net_after_discount + f_vat' },
  f_lines_total: { type: 'currency', label: label('Lines total', 'Radsumma'), formula: '$sum(lines.(quantity * price))' },
  f_lines_vat: {
    type: 'currency',
    label: label('Lines VAT', 'Radmoms'),
    formula: '$sum(lines.(quantity * price * ($exists(vat_rate) ? vat_rate : 25) / 100))',
  },
  f_line_count: { type: 'integer', label: label('Line count', 'Antal rader'), formula: '$count(lines)' },
  f_grand_total: { type: 'currency', label: label('Grand total', 'Totalsumma'), formula: 'f_gross + f_lines_total + f_lines_vat' },
  f_full_name: { type: 'text', label: label('Full name', 'Fullständigt namn'), formula: "first_name & ' ' & last_name" },
  f_display_code: { type: 'text', label: label('Display code', 'Visningskod'), formula: "$uppercase(code) & '-' & $string(quantity)" },
  f_title: { type: 'text', label: label('Title', 'Titel'), formula: '$uppercase(name)' },
  f_email_domain: { type: 'text', label: label('Email domain', 'E-postdomän'), formula: "$substringAfter(email, '@')" },
  f_size_class: {
    type: 'text',
    label: label('Size class', 'Storleksklass'),
    formula: "f_grand_total >= 100000 ? 'large' : (f_grand_total >= 10000 ? 'medium' : 'small')",
  },
  f_priority_score: {
    type: 'integer',
    label: label('Priority score', 'Prioritetspoäng'),
    formula: '$lookup({"low": 1, "normal": 2, "high": 3, "urgent": 4}, priority) * (confidential ? 2 : 1)',
  },
  f_due_date: {
    type: 'date',
    label: label('Due date', 'Förfallodatum'),
    formula: "$fromMillis($toMillis(invoice_date) + payment_terms * 86400000, '[Y0001]-[M01]-[D01]')",
  },
  f_duration_days: {
    type: 'integer',
    label: label('Duration (days)', 'Längd (dagar)'),
    formula: '$floor(($toMillis(end_date) - $toMillis(start_date)) / 86400000)',
  },
  f_overdue: { type: 'boolean', label: label('Overdue', 'Förfallen'), formula: '$toMillis(f_due_date) < $millis()' },
  f_total_weight: { type: 'decimal', label: label('Total weight (kg)', 'Totalvikt (kg)'), formula: '$round(weight * quantity, 2)' },
  f_summary: {
    type: 'textarea',
    label: label('Summary', 'Sammanfattning'),
    formula: "name & ' (' & status & ', ' & $string(f_line_count) & ' lines, ' & $formatNumber(f_grand_total, '#,##0.00') & ')'",
  },
};

/**
 * 20 rules: show/hide/require/readOnly/options, mostly single field conditions, three `all`/`any`/`not`
 * and two `expression` conditions. With {@link recordInput} six of them hold.
 */
export const RICH_RULES: Array<Record<string, unknown>> = [
  {
    id: 'closed_needs_reason',
    when: { field: 'status', op: 'eq', value: 'closed' },
    show: ['closed_reason'],
    require: ['closed_reason'],
    onHide: 'clear',
  },
  { id: 'on_hold_needs_notes', when: { field: 'status', op: 'eq', value: 'on_hold' }, require: ['notes'] },
  { id: 'urgent_needs_phone', when: { field: 'priority', op: 'eq', value: 'urgent' }, require: ['phone'] },
  { id: 'expensive_needs_notes', when: { field: 'unit_price', op: 'gt', value: 10000 }, require: ['notes'] },
  { id: 'confidential_hides_website', when: { field: 'confidential', op: 'eq', value: true }, hide: ['website'] },
  { id: 'closed_is_frozen', when: { field: 'status', op: 'in', value: ['closed'] }, readOnly: ['name', 'code', 'quantity', 'unit_price'] },
  { id: 'inactive_status_options', when: { field: 'active', op: 'eq', value: false }, options: { status: ['on_hold', 'closed'] } },
  {
    id: 'services_priorities',
    when: { field: 'category', op: 'eq', value: 'services' },
    options: { priority: ['normal', 'high', 'urgent'] },
  },
  {
    id: 'big_active_needs_end',
    when: {
      all: [
        { field: 'status', op: 'eq', value: 'active' },
        { field: 'quantity', op: 'gte', value: 10 },
      ],
    },
    require: ['end_date'],
  },
  {
    id: 'sensitive_needs_email',
    when: {
      any: [
        { field: 'priority', op: 'in', value: ['high', 'urgent'] },
        { field: 'confidential', op: 'eq', value: true },
      ],
    },
    require: ['email'],
  },
  { id: 'many_lines_need_notes', when: { expression: '$count(lines) > 3 and quantity > 0' }, require: ['notes'] },
  { id: 'large_lines_fix_discount', when: { expression: '$sum(lines.(quantity * price)) > 50000' }, readOnly: ['discount'] },
  { id: 'internal_codes_hide_weight', when: { field: 'code', op: 'startsWith', value: 'X' }, hide: ['weight'] },
  { id: 'test_records_hide_tags', when: { field: 'name', op: 'contains', value: 'test' }, hide: ['tags'] },
  { id: 'no_email_hides_confidential', when: { field: 'email', op: 'empty' }, hide: ['confidential'] },
  { id: 'website_needs_country', when: { field: 'website', op: 'notEmpty' }, require: ['country'] },
  { id: 'status_set_fixes_invoice_date', when: { field: 'status', op: 'changed' }, readOnly: ['invoice_date'] },
  { id: 'heavy_needs_category', when: { field: 'weight', op: 'gt', value: 1000 }, require: ['category'] },
  { id: 'old_invoices_fix_terms', when: { field: 'invoice_date', op: 'lt', value: '2020-01-01' }, readOnly: ['payment_terms'] },
  {
    id: 'foreign_hides_vat',
    when: {
      all: [{ not: { field: 'country', op: 'in', value: ['SE', 'NO', 'DK', 'FI'] } }, { field: 'country', op: 'notEmpty' }],
    },
    hide: ['vat_rate'],
  },
];

export function moduleBody(name: string, rich: boolean): Record<string, unknown> {
  return {
    name,
    label: rich ? label('Bench (rich)', 'Bänk (rik)') : label('Bench (plain)', 'Bänk (enkel)'),
    pluralLabel: rich ? label('Benches (rich)', 'Bänkar (rika)') : label('Benches (plain)', 'Bänkar (enkla)'),
    numbering: { prefix: rich ? 'BR-' : 'BP-', padding: 6 },
    fields: rich ? { ...PLAIN_FIELDS, ...FORMULA_FIELDS } : PLAIN_FIELDS,
  };
}

export const PLAIN_FIELD_COUNT = Object.keys(PLAIN_FIELDS).length;
export const FORMULA_COUNT = Object.keys(FORMULA_FIELDS).length;

/** The record both modules are saved with: every plain field set, 5 lines, valid under every rule. */
export function recordInput(): Record<string, unknown> {
  return {
    name: 'Nordic Timber framework agreement',
    code: 'NT-2026',
    first_name: 'Anna',
    last_name: 'Lindqvist',
    email: 'anna.lindqvist@nordictimber.se',
    phone: '+46 70 123 45 67',
    website: 'https://nordictimber.se',
    status: 'active',
    priority: 'high',
    category: 'products',
    tags: ['returning', 'export'],
    country: 'SE',
    quantity: 12,
    unit_price: 1250.5,
    discount: 10,
    vat_rate: 25,
    weight: 3.5,
    invoice_date: '2026-03-01',
    payment_terms: 30,
    start_date: '2026-03-01',
    end_date: '2026-09-30',
    active: true,
    confidential: false,
    notes: 'Framework agreement, delivery in batches.',
    lines: [
      { product_name: 'Pine plank 45x95', quantity: 120, price: 42.5, vat_rate: 25 },
      { product_name: 'Spruce board 22x145', quantity: 300, price: 18.9, vat_rate: 25 },
      { product_name: 'Oak flooring', quantity: 40, price: 389, vat_rate: 25 },
      { product_name: 'Delivery', quantity: 1, price: 1500 },
      { product_name: 'Installation (hours)', quantity: 16, price: 650, vat_rate: 25 },
    ],
  };
}

/** What an update sends: a few changed values, so formulas and rules have something to do. */
export function updateInput(): Record<string, unknown> {
  return { quantity: 14, discount: 12, priority: 'urgent', notes: 'Framework agreement, two more units.' };
}
