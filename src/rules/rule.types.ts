import type { Condition } from '../expressions/condition.compiler';
import type { Labels } from '../metadata/metadata.types';

/** One dynamic-field rule from `modules/<m>/rules.json` (see metadata/schema/rules.schema.json). */
export interface RuleDefinition {
  id: string;
  label?: Labels;
  when: Condition;
  show?: string[];
  hide?: string[];
  require?: string[];
  readOnly?: string[];
  options?: Record<string, string[]>;
  onHide?: 'keep' | 'clear';
}

/** What the rules decide for one field of one record state. */
export interface FieldState {
  visible: boolean;
  required: boolean;
  readOnly: boolean;
  /** The allowed options of a picklist when a rule restricts them. */
  options?: string[];
  /** Whether saving removes the value because a `clear` rule hides the field. */
  clearOnSave: boolean;
  /** Why: the rule ids (or `field definition`) behind each decision, for errors and `?explain=true`. */
  because: { hidden?: string; shown?: string; required?: string; readOnly?: string; options?: string };
}
