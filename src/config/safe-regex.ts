/**
 * Whether a regular expression can backtrack catastrophically, by the star-height rule: a
 * quantified group (`(…)+`, `(…)*`, `(…){2,}`) whose body can itself repeat (a quantifier
 * inside, or an alternation whose branches can match the same text, like `(a|a)*`). Such a
 * pattern can take exponential time on a short input (`^(a+)+$` on 26 characters: seconds).
 * Conservative: it may refuse a pattern that would have been fast, never the other way round
 * for the shapes above. Returns what it found, or undefined for a safe pattern. Pure.
 */
export function backtrackingRisk(pattern: string): string | undefined {
  // The body of each group, with whether it repeats: walk the pattern, skipping escapes and classes.
  interface Group {
    start: number;
    hasQuantifier: boolean;
    branches: string[];
    branchStart: number;
  }
  const stack: Group[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      stack.push({ start: i, hasQuantifier: false, branches: [], branchStart: i + 1 });
      if (pattern[i + 1] === '?') i++; // (?: (?= (?! (?<
      continue;
    }
    if (c === '|' && stack.length) {
      const g = stack[stack.length - 1]!;
      g.branches.push(pattern.slice(g.branchStart, i));
      g.branchStart = i + 1;
      continue;
    }
    if (c === ')') {
      const g = stack.pop();
      if (!g) continue;
      g.branches.push(pattern.slice(g.branchStart, i));
      const q = quantifierAt(pattern, i + 1);
      const repeated = q?.unbounded === true;
      if (repeated && g.hasQuantifier) return `a repeated group repeats inside: ${pattern.slice(g.start, i + 1 + q!.length)}`;
      if (repeated && g.branches.length > 1 && overlapping(g.branches)) return `a repeated alternation whose branches overlap: ${pattern.slice(g.start, i + 1 + q!.length)}`;
      // The group's own repetition makes its parent's body repeat.
      if (stack.length && (g.hasQuantifier || q !== undefined)) stack[stack.length - 1]!.hasQuantifier = true;
      continue;
    }
    const q = quantifierAt(pattern, i);
    if (q) {
      if (stack.length && q.unbounded) stack[stack.length - 1]!.hasQuantifier = true;
      i += q.length - 1;
    }
  }
  return undefined;
}

function quantifierAt(p: string, i: number): { unbounded: boolean; length: number } | undefined {
  const c = p[i];
  if (c === '*' || c === '+') return { unbounded: true, length: p[i + 1] === '?' ? 2 : 1 };
  if (c === '?') return { unbounded: false, length: 1 };
  if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}\??/.exec(p.slice(i));
    if (!m) return undefined;
    const unbounded = m[2] !== undefined && (m[3] === '' || Number(m[3]) > 10);
    return { unbounded, length: m[0].length };
  }
  return undefined;
}

/** Branches that can match the same start: equal, or one a prefix of another (`a|aa`), or a wildcard. */
function overlapping(branches: string[]): boolean {
  for (let a = 0; a < branches.length; a++)
    for (let b = a + 1; b < branches.length; b++) {
      const x = branches[a]!;
      const y = branches[b]!;
      if (x === '' || y === '' || x.startsWith(y) || y.startsWith(x)) return true;
      if (/^[.\\[]/.test(x) || /^[.\\[]/.test(y)) return true;
    }
  return false;
}
