import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { configInfoOf } from '../../src/live-config/config-info';
import { fleetDocTail, parseFleetDoc, settingsDigest } from '../../src/live-config/fleet-doc';
import { planReload } from '../../src/live-config/reload-plan';

const loaded = (env: Record<string, string>, fleet?: Record<string, unknown>) => loadConfig(env, fleet ? { settings: fleet, version: 7, origin: 'ops@host: fleet.yaml' } : undefined);

describe('planReload', () => {
  const base = loaded({ LLM_GOVERNOR_DAILY_BUDGET_USD: '5', LLM_GOVERNOR_REDIS_URL: 'redis://a:6379' });
  it.each([
    { why: 'nothing changed', env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5', LLM_GOVERNOR_REDIS_URL: 'redis://a:6379' }, accepted: true, changed: [], kept: [] },
    { why: 'a limit changed', env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '9', LLM_GOVERNOR_REDIS_URL: 'redis://a:6379' }, accepted: true, changed: ['daily_budget_usd'], kept: [] },
    { why: 'a restart-only setting is kept', env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5', LLM_GOVERNOR_REDIS_URL: 'redis://b:6379' }, accepted: true, changed: [], kept: ['redis_url'] },
    { why: 'a restart-only setting removed is kept too', env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5' }, accepted: true, changed: [], kept: ['redis_url'] },
    {
      why: 'an invalid value rejects the whole',
      env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '-1', LLM_GOVERNOR_REDIS_URL: 'redis://a:6379', LLM_GOVERNOR_RATE_LIMIT_RPM: '60' },
      accepted: false,
      changed: ['daily_budget_usd', 'rate_limit_rpm'],
      kept: [],
    },
  ])('$why', ({ env, accepted, changed, kept }) => {
    const plan = planReload(base, loaded(env));
    expect(plan.accepted).toBe(accepted);
    expect(plan.changed).toEqual(changed);
    expect(plan.keptUntilRestart).toEqual(kept);
    expect(plan.config.redis_url).toBe('redis://a:6379');
    if (!accepted) expect(plan.newProblems.map((p) => p.source)).toEqual(['LLM_GOVERNOR_DAILY_BUDGET_USD']);
  });

  it('a value already invalid at start (and left out) does not reject every later reload', () => {
    const bad = loaded({ LLM_GOVERNOR_RATE_LIMIT_RPM: 'lots' });
    const plan = planReload(bad, loaded({ LLM_GOVERNOR_RATE_LIMIT_RPM: 'lots', LLM_GOVERNOR_DAILY_BUDGET_USD: '3' }));
    expect(plan).toMatchObject({ accepted: true, changed: ['daily_budget_usd'], newProblems: [] });
  });
});

describe('precedence: file < environment < fleet', () => {
  it.each([
    { env: {}, fleet: undefined, expected: undefined, origin: undefined },
    { env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5' }, fleet: undefined, expected: 5, origin: 'LLM_GOVERNOR_DAILY_BUDGET_USD' },
    { env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5' }, fleet: { daily_budget_usd: 2 }, expected: 2, origin: 'fleet config (version 7)' },
    { env: {}, fleet: { daily_budget_usd: 2 }, expected: 2, origin: 'fleet config (version 7)' },
  ])('env $env, fleet $fleet → $expected', ({ env, fleet, expected, origin }) => {
    const l = loaded(env, fleet);
    expect(l.config.daily_budget_usd).toBe(expected);
    expect(l.origins.daily_budget_usd).toBe(origin);
  });

  it('a bad fleet value is named by the fleet version and its full path', () => {
    const l = loaded({}, { budgets: [{ name: 'x', limit_usd: 0, window: 'day' }] });
    expect(l.problems.map((p) => p.source)).toEqual(['fleet config (version 7): budgets[0].limit_usd']);
  });
});

describe('the fleet document', () => {
  it('round-trips through the push script’s form, and the digest ignores key order', () => {
    const settings = { rate_limit_rpm: 60, budgets: [{ name: 'a', limit_usd: 0.1, window: 'day' }] };
    const stored = `{"version":3,${fleetDocTail(settings, 'ops@host: f.yaml', new Date('2026-12-03T10:00:00Z'))}`;
    expect(parseFleetDoc(stored)).toEqual({ version: 3, origin: 'ops@host: f.yaml', pushedAt: '2026-12-03T10:00:00.000Z', sha256: settingsDigest(settings), settings });
    expect(settingsDigest({ b: 1, a: { d: 2, c: 3 } })).toBe(settingsDigest({ a: { c: 3, d: 2 }, b: 1 }));
  });

  it.each([
    { text: 'not json', error: /not JSON/ },
    { text: '[1]', error: /not a JSON object/ },
    { text: '{"settings":{}}', error: /no version/ },
    { text: '{"version":2,"settings":[1]}', error: /version 2 has no settings/ },
  ])('$text is refused: $error', ({ text, error }) => {
    const doc = parseFleetDoc(text);
    expect('error' in doc && doc.error).toMatch(error);
  });
});

describe('configInfoOf', () => {
  it.each([
    { env: {}, fleet: undefined, version: 'local', origin: 'defaults' },
    { env: { LLM_GOVERNOR_DAILY_BUDGET_USD: '5' }, fleet: undefined, version: 'local', origin: 'env' },
    { env: {}, fleet: { daily_budget_usd: 1 }, version: '7', origin: 'fleet' },
    { env: {}, fleet: {}, version: 'local', origin: 'defaults' },
  ])('$origin, version $version', ({ env, fleet, version, origin }) => {
    expect(configInfoOf(loaded(env, fleet))).toMatchObject({ version, origin, sha256: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });
});
