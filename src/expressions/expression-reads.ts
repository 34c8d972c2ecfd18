/** The parts of a jsonata AST node the walk needs (jsonata's own ExprNode type lacks several node kinds). */
interface AstNode {
  type: string;
  value?: unknown;
  steps?: AstNode[];
  stages?: AstNode[];
  predicate?: AstNode[];
  group?: { lhs: Array<[AstNode, AstNode]> };
  focus?: string;
  expr?: AstNode;
  expression?: AstNode;
  expressions?: AstNode[];
  lhs?: AstNode | Array<[AstNode, AstNode]>;
  rhs?: AstNode;
  arguments?: AstNode[];
  procedure?: AstNode;
  body?: AstNode;
  condition?: AstNode;
  then?: AstNode;
  else?: AstNode;
  terms?: Array<{ expression: AstNode }>;
  pattern?: AstNode;
  update?: AstNode;
  delete?: AstNode;
}

/** Variables that always stand for the record: `$record.x`, `$old.x` and `$$.x` read field x. */
const RECORD_VARIABLES = new Set(['record', 'old', '$']);

/** Collects the top-level field names a parsed jsonata expression reads; see `expressionReads`. */
export function readsOfAst(ast: unknown): string[] {
  const out = new Set<string>();
  walk(ast as AstNode, true, out);
  return [...out];
}

// `atRoot`: whether the node is evaluated with the record itself as its context, so a bare name is a field.
function walk(node: AstNode | undefined, atRoot: boolean, out: Set<string>): void {
  if (!node || typeof node !== 'object') return;
  switch (node.type) {
    case 'path':
      walkPath(node.steps ?? [], atRoot, out);
      break;
    case 'name':
      if (atRoot && typeof node.value === 'string') out.add(node.value);
      break;
    case 'unary':
      walk(node.expression, atRoot, out);
      node.expressions?.forEach((child) => walk(child, atRoot, out));
      if (Array.isArray(node.lhs)) walkPairs(node.lhs as Array<[AstNode, AstNode]>, atRoot, out);
      break;
    case 'transform':
      // The pattern and update run against the transformed copy, not the record.
      walk(node.pattern, false, out);
      walk(node.update, false, out);
      walk(node.delete, false, out);
      break;
    case 'sort':
      node.terms?.forEach((term) => walk(term.expression, false, out));
      break;
    case 'filter':
      walk(node.expr, false, out);
      break;
    default:
      // binary, apply, bind, block, condition, function, partial, lambda: children share the context.
      // A lambda body really runs against the input where the lambda was defined, which is this one.
      for (const child of [node.lhs, node.rhs, node.procedure, node.body, node.condition, node.then, node.else]) {
        if (child && !Array.isArray(child)) walk(child, atRoot, out);
      }
      node.arguments?.forEach((child) => walk(child, atRoot, out));
      node.expressions?.forEach((child) => walk(child, atRoot, out));
  }
  // Predicates and group-by apply to the node's result, never to the record.
  node.predicate?.forEach((child) => walk(child, false, out));
  node.stages?.forEach((child) => walk(child, false, out));
  if (node.group) walkPairs(node.group.lhs, false, out);
}

function walkPath(steps: AstNode[], atRoot: boolean, out: Set<string>): void {
  const [first, second] = steps;
  if (first?.type === 'variable' && second?.type === 'name' && typeof second.value === 'string') {
    // `$.x` reads x only where `$` is the record; `$record`, `$old` and `$$` are the record anywhere.
    if (RECORD_VARIABLES.has(String(first.value)) || (first.value === '' && atRoot)) out.add(second.value);
  }
  let context = atRoot;
  for (const step of steps) {
    walk(step, context, out);
    // After a step the context is that step's result, except after `@$var`, which keeps the context.
    if (!step.focus) context = false;
  }
}

function walkPairs(pairs: Array<[AstNode, AstNode]>, atRoot: boolean, out: Set<string>): void {
  for (const [key, value] of pairs) {
    walk(key, atRoot, out);
    walk(value, atRoot, out);
  }
}
