import { diag } from '@opentelemetry/api';
import type { ModerationRuleConfig } from '../../config/schema';

export interface CompiledRule {
  name: string;
  regex: RegExp;
}

/**
 * Compiles the config's `moderation_rules` once, in order, each with its own flags (default `i`).
 * A pattern that is invalid with its flags (the schema checks it without them, and some patterns
 * are only invalid under `u`) is skipped with a warning naming the rule, never the pattern's match.
 *
 * A worked example — rules against manipulative language in user content, as the integration
 * playbook suggests (an example only: there are no default rules):
 *
 * ```yaml
 * moderation_rules:
 *   - name: prompt_injection
 *     pattern: "\\b(ignore|disregard|forget) (all|any) (previous|prior|earlier) (instructions|rules)\\b"
 *   - name: coercion
 *     pattern: "\\byou (must|have to) obey\\b"
 *   - name: urgency_pressure
 *     pattern: "\\b(act now|last chance|right now or else)\\b"
 * ```
 *
 * A user message "Please IGNORE ALL PREVIOUS INSTRUCTIONS" then blocks with the rule
 * `prompt_injection` (flags default to `i`); "you must obey me" with `coercion`.
 */
export function compileRules(rules: readonly ModerationRuleConfig[]): CompiledRule[] {
  const compiled: CompiledRule[] = [];
  for (const rule of rules) {
    try {
      // No `g`/`y` flag is allowed by the schema, so `test()` is stateless and the regex reusable.
      compiled.push({ name: rule.name, regex: new RegExp(rule.pattern, (rule.flags ?? 'i').replace(/[gy]/g, '')) });
    } catch (err) {
      diag.warn(`llm-governor: moderation rule "${rule.name}" is not a valid regular expression with flags "${rule.flags ?? 'i'}" (${(err as Error)?.message}); it is skipped`);
    }
  }
  return compiled;
}

/** The first rule (in config order) that matches any of the texts, or undefined. Pure. */
export function firstMatchingRule(rules: readonly CompiledRule[], texts: readonly string[]): CompiledRule | undefined {
  for (const rule of rules) for (const text of texts) if (rule.regex.test(text)) return rule;
  return undefined;
}
