import { diag, type Attributes, type Counter, type Meter } from '@opentelemetry/api';
import type { GovernorConfig } from '../config/schema';
import { ATTR, GOVERNOR_METRIC } from '../semconv';
import { blockingCategories, type ModerationResult } from './moderation/categories';
import { compileRules, firstMatchingRule, type CompiledRule } from './moderation/rules';
import { userTexts } from './moderation/texts';

export { userTexts };
export { blockingCategories, covers } from './moderation/categories';
export { compileRules, firstMatchingRule, type CompiledRule } from './moderation/rules';

/** Why content may not be sent. */
export interface ModerationVerdict {
  /** 'rule' = a regex rule matched; 'moderation' = the endpoint flagged it; 'unavailable' = the endpoint failed and moderation_failure_mode is closed */
  source: 'rule' | 'moderation' | 'unavailable';
  /** the flagged categories (endpoint), or [rule name], or ['moderation_unavailable'] */
  categories: string[];
  /** Human-readable, names the rule or categories, never quotes the user's text. */
  reason: string;
}

/** Calls the provider's moderation endpoint; the lead engineer wires it to client.moderations.create({model, input}). */
export type ModerationEndpoint = (model: string, input: string[]) => Promise<{ results: Array<{ flagged: boolean; categories: Record<string, boolean> }> }>;

export interface ModerationTarget {
  provider: string;
  model?: string;
  operation: string;
  path: string;
}

const UNAVAILABLE_CATEGORY = 'moderation_unavailable';

/**
 * The moderation guard: user content (see `userTexts`) is checked before a call is sent, first
 * against the config's regex rules (no network), then, when `moderation_endpoint` is on, by the
 * provider's moderation endpoint in one request carrying every text. It only judges; the caller
 * refuses the call.
 */
export class ModerationGuard {
  /** True when rules exist or the endpoint is on. */
  readonly active: boolean;
  private readonly rules: CompiledRule[];
  private readonly flagged: Counter;
  /** Set while the endpoint is failing: one warning per outage, not one per call. */
  private outage = false;

  private readonly config: GovernorConfig;

  constructor(opts: { config: GovernorConfig; meter: Meter }) {
    this.config = opts.config;
    this.rules = compileRules(opts.config.moderation_rules ?? []);
    this.active = this.rules.length > 0 || opts.config.moderation_endpoint === true;
    this.flagged = opts.meter.createCounter(GOVERNOR_METRIC.MODERATION_FLAGGED, {
      description: 'Calls whose user content was flagged before sending, once per blocking category or rule',
    });
  }

  /**
   * Rules first (no network); then, when on, the endpoint (one call with all texts as an array).
   * Returns undefined when the content may be sent. Counts llm_governor.moderation.flagged
   * {category, gen_ai.provider.name, gen_ai.request.model} once per flagged category/rule. Never
   * throws: an endpoint failure gives undefined (failure mode open, diag.warn once) or a verdict
   * with source 'unavailable' (closed).
   */
  async check(target: ModerationTarget, body: Record<string, unknown>, endpoint: ModerationEndpoint): Promise<ModerationVerdict | undefined> {
    try {
      if (!this.active) return undefined;
      const texts = userTexts(target.operation, target.path, body);
      if (texts.length === 0) return undefined;

      const rule = firstMatchingRule(this.rules, texts);
      if (rule) {
        this.count(target, [rule.name]);
        return { source: 'rule', categories: [rule.name], reason: `the content matched the moderation rule "${rule.name}"` };
      }
      if (!this.config.moderation_endpoint) return undefined;
      return await this.askEndpoint(target, texts, endpoint);
    } catch (err) {
      // Only a bug of ours gets here (the endpoint's own failures are handled below): let the call through.
      diag.error('llm-governor: moderation check failed', err);
      return undefined;
    }
  }

  private async askEndpoint(target: ModerationTarget, texts: string[], endpoint: ModerationEndpoint): Promise<ModerationVerdict | undefined> {
    const model = this.config.moderation_model;
    let results: ModerationResult[];
    try {
      const response = await endpoint(model, texts);
      if (!response || !Array.isArray(response.results) || response.results.length !== texts.length) {
        throw new MalformedResponse(texts.length);
      }
      results = response.results;
    } catch (err) {
      return this.unavailable(model, err);
    }
    if (this.outage) {
      this.outage = false;
      diag.warn('llm-governor: the moderation endpoint answers again');
    }
    const categories = blockingCategories(results, this.config.moderation_categories);
    if (categories.length === 0) return undefined;
    this.count(target, categories);
    return {
      source: 'moderation',
      categories,
      reason: `the moderation endpoint (${model}) flagged the content: ${categories.join(', ')}`,
    };
  }

  private unavailable(model: string, err: unknown): ModerationVerdict | undefined {
    const closed = this.config.moderation_failure_mode === 'closed';
    const why = describeError(err);
    if (!this.outage) {
      this.outage = true;
      diag.warn(
        `llm-governor: the moderation endpoint (${model}) failed (${why}); moderation_failure_mode is ${closed ? 'closed: calls with user content are refused' : 'open: calls are sent unchecked'} until it answers again`,
      );
    }
    if (!closed) return undefined;
    return {
      source: 'unavailable',
      categories: [UNAVAILABLE_CATEGORY],
      reason: `the moderation endpoint (${model}) could not check the content (${why}) and moderation_failure_mode is closed`,
    };
  }

  private count(target: ModerationTarget, categories: string[]): void {
    const base: Attributes = { [ATTR.PROVIDER_NAME]: target.provider };
    if (target.model) base[ATTR.REQUEST_MODEL] = target.model;
    for (const category of categories) this.flagged.add(1, { ...base, [ATTR.CATEGORY]: category });
  }
}

class MalformedResponse extends Error {
  constructor(expected: number) {
    super(`an answer without ${expected} result${expected === 1 ? '' : 's'}`);
  }
}

/** An error's status or class, never its message (which might echo the request). */
function describeError(err: unknown): string {
  if (err instanceof MalformedResponse) return err.message;
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number') return `HTTP ${status}`;
  const name = (err as { constructor?: { name?: string } })?.constructor?.name;
  return name && name !== 'Object' ? name : 'error';
}
