import type { Condition } from '../expressions/condition.types';
import type { Labels } from './metadata.types';

/**
 * Card layouts (`modules/<module>/layout.json`) as TypeScript types. `metadata/schema/layout.schema.json`
 * is the source of truth for what a file may contain; these types describe a layout that has passed it,
 * with the defaults filled in by `validateLayouts`.
 */

/** Columns of a block that does not say. */
export const DEFAULT_BLOCK_COLUMNS = 2;

/** Page size of a related list that does not say. */
export const DEFAULT_RELATED_PAGE_SIZE = 10;

/** Record properties that related-list columns and sort keys may name besides the module's fields. */
export const LAYOUT_SYSTEM_KEYS = ['number', 'createdAt', 'updatedAt'] as const;

/** A titled group of fields on the card. */
export interface LayoutBlock {
  /** Unique among the card's blocks, lower snake case. */
  id: string;
  label: Labels;
  /** 1 to 4; DEFAULT_BLOCK_COLUMNS when the file leaves it out. */
  columns: number;
  /** The block starts collapsed; false when the file leaves it out. */
  collapsed: boolean;
  /** Field names of the module, in display order; each field is in at most one block. */
  fields: string[];
}

/** Records of another module whose relation field points to the record on the card. */
export interface RelatedList {
  /** Unique among the card's related lists, lower snake case. */
  id: string;
  label: Labels;
  /** The module whose records are listed. */
  module: string;
  /** A relation field of `module` whose target is the card's module. */
  relation: string;
  /** Fields of `module` (or number, createdAt, updatedAt) shown as columns, 1 to 10. */
  columns: string[];
  /**
   * Extra condition the listed records must match (the condition language): field comparisons with
   * eq, ne, gt, gte, lt, lte, in, nin, contains, startsWith or empty, alone or inside one top-level `all`,
   * because a related list runs as one list query.
   */
  filter?: Condition;
  /** Sort keys of `module`, comma-separated, `-` for descending, e.g. `-createdAt,name`. */
  sort?: string;
  /** 1 to 100; DEFAULT_RELATED_PAGE_SIZE when the file leaves it out. */
  pageSize: number;
}

/** The card layout of one module, with every optional part filled in. */
export interface LayoutDefinition {
  $schema?: string;
  /** The module the card belongs to. */
  module: string;
  blocks: LayoutBlock[];
  /** Fields not shown on the card. Fields in neither a block nor here go to an automatic "Other" block. */
  hidden: string[];
  relatedLists: RelatedList[];
  /** Names of the module tools shown as buttons, in order. */
  tools: string[];
}

/** A layout body with the file it came from (`modules/<module>/layout.json`). */
export interface LayoutSource {
  file: string;
  body: unknown;
}
