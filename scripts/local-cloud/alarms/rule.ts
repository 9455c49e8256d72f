/**
 * The composite alarm rule language of CloudWatch (`AlarmRule`):
 *
 *   rule   := or
 *   or     := and ('OR' and)*
 *   and    := not ('AND' not)*
 *   not    := 'NOT' not | atom
 *   atom   := '(' rule ')' | 'TRUE' | 'FALSE' | STATE '(' alarm ')'
 *   STATE  := 'ALARM' | 'OK' | 'INSUFFICIENT_DATA'
 *   alarm  := a quoted name or ARN ("..." or '...'), or a bare one
 *
 * Keywords are case-sensitive, as CloudWatch's are. The moto AWS emulator stores no composite
 * alarms and evaluates no rules, so the local cloud parses and evaluates them itself.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export type RuleNode =
  | { readonly kind: 'state'; readonly state: AlarmStateValue; readonly alarm: string }
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'not'; readonly operand: RuleNode }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly RuleNode[] };

export class AlarmRuleError extends Error {}

type Token =
  | { readonly type: 'word'; readonly text: string; readonly at: number }
  | { readonly type: 'string'; readonly text: string; readonly at: number }
  | { readonly type: '(' | ')'; readonly at: number };

const STATES = new Set<string>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, at: i });
      i++;
    } else if (c === '"' || c === "'") {
      const end = rule.indexOf(c, i + 1);
      if (end < 0) throw new AlarmRuleError(`unterminated string at ${i} in ${rule}`);
      tokens.push({ type: 'string', text: rule.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < rule.length && !/[\s()"']/.test(rule.charAt(i))) i++;
      tokens.push({ type: 'word', text: rule.slice(start, i), at: start });
    }
  }
  return tokens;
}

/** Parses an `AlarmRule`; throws {@link AlarmRuleError} with the position of the fault. */
export function parseAlarmRule(rule: string): RuleNode {
  const tokens = tokenize(rule);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, text: string) => t?.type === 'word' && t.text === text;
  const fail = (what: string): never => {
    const t = peek();
    throw new AlarmRuleError(`${what} at ${t ? `position ${t.at}` : 'end'} of rule: ${rule}`);
  };
  const expect = (type: '(' | ')') => {
    if (peek()?.type !== type) fail(`expected '${type}'`);
    pos++;
  };

  const parseOr = (): RuleNode => {
    const operands = [parseAnd()];
    while (isWord(peek(), 'OR')) {
      pos++;
      operands.push(parseAnd());
    }
    return operands.length === 1 && operands[0] ? operands[0] : { kind: 'or', operands };
  };
  const parseAnd = (): RuleNode => {
    const operands = [parseNot()];
    while (isWord(peek(), 'AND')) {
      pos++;
      operands.push(parseNot());
    }
    return operands.length === 1 && operands[0] ? operands[0] : { kind: 'and', operands };
  };
  const parseNot = (): RuleNode => {
    if (isWord(peek(), 'NOT')) {
      pos++;
      return { kind: 'not', operand: parseNot() };
    }
    return parseAtom();
  };
  const parseAtom = (): RuleNode => {
    const t = peek();
    if (t?.type === '(') {
      pos++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (t?.type !== 'word') return fail('expected an expression');
    if (t.text === 'TRUE' || t.text === 'FALSE') {
      pos++;
      return { kind: 'const', value: t.text === 'TRUE' };
    }
    if (!STATES.has(t.text)) return fail(`unknown function ${t.text}`);
    pos++;
    expect('(');
    const target = peek();
    if (target?.type !== 'string' && target?.type !== 'word') return fail('expected an alarm name or ARN');
    pos++;
    if (target.text === '') fail('empty alarm name');
    expect(')');
    return { kind: 'state', state: t.text as AlarmStateValue, alarm: target.text };
  };

  if (tokens.length === 0) throw new AlarmRuleError('empty rule');
  const node = parseOr();
  if (pos < tokens.length) fail('unexpected token');
  return node;
}

/** Every alarm (name or ARN, as written) a rule refers to. */
export function alarmsOf(node: RuleNode): string[] {
  switch (node.kind) {
    case 'state':
      return [node.alarm];
    case 'const':
      return [];
    case 'not':
      return alarmsOf(node.operand);
    default:
      return [...new Set(node.operands.flatMap(alarmsOf))];
  }
}

export interface RuleEvaluation {
  readonly value: boolean;
  /**
   * The alarms (as written in the rule) whose state made the rule true: the satisfied state
   * functions outside any NOT. Empty when the rule is false.
   */
  readonly triggering: readonly string[];
}

/**
 * Evaluates a rule against the alarms' states. `stateOf` answers for a name or an ARN; an alarm it
 * does not know (undefined) satisfies no state function, as CloudWatch treats a deleted child.
 */
export function evaluateAlarmRule(
  node: RuleNode,
  stateOf: (alarm: string) => AlarmStateValue | undefined,
): RuleEvaluation {
  const visit = (n: RuleNode): RuleEvaluation => {
    switch (n.kind) {
      case 'state': {
        const value = stateOf(n.alarm) === n.state;
        return { value, triggering: value ? [n.alarm] : [] };
      }
      case 'const':
        return { value: n.value, triggering: [] };
      case 'not':
        return { value: !visit(n.operand).value, triggering: [] };
      case 'and': {
        const parts = n.operands.map(visit);
        const value = parts.every((p) => p.value);
        return { value, triggering: value ? [...new Set(parts.flatMap((p) => p.triggering))] : [] };
      }
      case 'or': {
        const parts = n.operands.map(visit).filter((p) => p.value);
        return { value: parts.length > 0, triggering: [...new Set(parts.flatMap((p) => p.triggering))] };
      }
    }
  };
  return visit(node);
}
