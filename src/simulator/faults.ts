/** Fault selection: configured rules (seeded, counted) and the per-request `x-simulator-fault` header. */
import { Prng, mixSeed } from './prng';
import type { FaultKind, FaultRule, Provider } from './types';

const FAULT_KINDS: readonly FaultKind[] = ['400', '429', '500', '503', 'hang', 'reset', 'truncate', 'malformed'];

export interface ChosenFault {
  kind: FaultKind;
  retryAfterSeconds?: number;
}

export interface FaultTarget {
  path: string;
  model?: string;
  provider: Provider;
}

function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** `*` matches any run of characters; everything else literally. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const escaped = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(value);
}

export function ruleMatches(rule: FaultRule, target: FaultTarget): boolean {
  const m = rule.match;
  if (!m) return true;
  if (m.path !== undefined && !target.path.includes(m.path)) return false;
  if (m.provider !== undefined && m.provider !== target.provider) return false;
  if (m.model !== undefined && (target.model === undefined || !globMatch(m.model, target.model))) return false;
  return true;
}

/** `x-simulator-fault: <kind>[;retry-after=<s>]` */
export function parseFaultHeader(value: string | undefined): ChosenFault | undefined {
  if (!value) return undefined;
  const [kindPart, ...params] = value.split(';').map((s) => s.trim());
  if (!kindPart || !isFaultKind(kindPart)) return undefined;
  const fault: ChosenFault = { kind: kindPart };
  for (const param of params) {
    const [key, raw] = param.split('=').map((s) => s.trim());
    const num = Number(raw);
    if (key === 'retry-after' && raw !== undefined && raw !== '' && Number.isFinite(num)) fault.retryAfterSeconds = num;
  }
  return fault;
}

/**
 * Evaluates rules in order; the first that fires wins. For each rule, the matching requests are
 * numbered 1, 2, …: a request fires when its number is above `after`, at most `after + count`,
 * and a draw from the seeded PRNG falls below `probability`.
 */
export class FaultEngine {
  private seen: number[] = [];
  private rng: Prng;

  constructor(
    private rules: FaultRule[],
    private readonly seed: number,
  ) {
    this.rng = new Prng(mixSeed(seed, 'faults'));
    this.seen = rules.map(() => 0);
  }

  setRules(rules: FaultRule[]): void {
    this.rules = rules;
    this.seen = rules.map(() => 0);
  }

  reset(): void {
    this.seen = this.rules.map(() => 0);
    this.rng = new Prng(mixSeed(this.seed, 'faults'));
  }

  decide(target: FaultTarget): ChosenFault | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (!ruleMatches(rule, target)) continue;
      const n = ++this.seen[i]!;
      const after = rule.after ?? 0;
      if (n <= after) continue;
      if (rule.count !== undefined && n > after + rule.count) continue;
      const p = rule.probability ?? 1;
      if (p < 1 && this.rng.next() >= p) continue;
      return { kind: rule.kind, retryAfterSeconds: rule.retryAfterSeconds };
    }
    return undefined;
  }
}

/**
 * CLI fault spec: `kind[:probability][:key=value,...]` with keys count, after, path, model,
 * provider, retry-after. E.g. `429:0.1`, `500:1:count=2,model=gpt-4o*`, `hang:0.05:path=embeddings`.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const [kind, probability, options] = spec.split(':');
  if (!kind || !isFaultKind(kind)) throw new Error(`unknown fault kind in "${spec}" (expected one of ${FAULT_KINDS.join(', ')})`);
  const rule: FaultRule = { kind };
  if (probability !== undefined && probability !== '') {
    const p = Number(probability);
    if (!(p >= 0 && p <= 1)) throw new Error(`fault probability must be within 0..1 in "${spec}"`);
    rule.probability = p;
  }
  for (const pair of options ? options.split(',') : []) {
    const [key, value = ''] = pair.split('=');
    if (key === 'count' || key === 'after') rule[key] = Number(value);
    else if (key === 'retry-after') rule.retryAfterSeconds = Number(value);
    else if (key === 'path' || key === 'model') rule.match = { ...rule.match, [key]: value };
    else if (key === 'provider' && (value === 'openai' || value === 'azure' || value === 'xai')) rule.match = { ...rule.match, provider: value };
    else throw new Error(`unknown fault option "${pair}" in "${spec}"`);
  }
  return rule;
}
