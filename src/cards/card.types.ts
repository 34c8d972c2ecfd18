import type { FieldError } from '../common/app.exception';

export interface CardField {
  name: string;
  label: string;
  type: string;
  value: unknown;
  displayValue: string | null;
  visible: boolean;
  required: boolean;
  readOnly: boolean;
  /** Allowed options of a picklist, narrowed by rules where they apply. */
  options?: string[];
  /** With `?explain=true`: which rule decided what, and what a formula read. */
  explain?: {
    hiddenBy?: string;
    shownBy?: string;
    requiredBy?: string;
    readOnlyBy?: string;
    optionsBy?: string;
    formula?: { source: string; reads: string[]; related: string[] };
  };
}

export interface CardBlock {
  id: string;
  label: string;
  columns: number;
  collapsed: boolean;
  fields: CardField[];
}

export interface CardRelatedList {
  id: string;
  label: string;
  module: string;
  columns: Array<{ name: string; label: string }>;
  records: Array<Record<string, unknown>>;
  nextCursor: string | null;
  /** Where the next pages come from. */
  href: string;
}

/** A module tool offered for the record (its `visibleWhen` holds). */
export interface CardTool {
  name: string;
  label: string;
  confirm?: string;
  parameters: Array<{ name: string; label: string; type: string; required: boolean; options?: string[] }>;
  /** POST here with `{ "params": {...} }` to run it. */
  href?: string;
}

export interface CardView {
  module: { name: string; label: string };
  record: { id: string; number: string | null; version: number } | null;
  blocks: CardBlock[];
  relatedLists: CardRelatedList[];
  tools: CardTool[];
  links: { history?: string; self?: string };
  /** Only for a draft evaluation: what a save would reject. */
  errors?: FieldError[];
}
