import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';

describe('loadConfig', () => {
  it('gives defaults with an empty environment', () => {
    const { config, problems } = loadConfig({});
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ disabled: false, capture_content: false, request_stream_usage: true, sdk: 'auto', fail_closed: false });
  });

  it.each([
    ['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'maybe', 'expected true or false'],
    ['LLM_GOVERNOR_SDK', 'sometimes', 'expected auto, on or off'],
    ['LLM_GOVERNOR_FLUSH_TIMEOUT_MS', 'soon', 'expected a number of milliseconds'],
    ['OPENAI_MAX_RETRIES', 'many', 'expected a whole number of retries'],
    ['OPENAI_TIMEOUT_SECONDS', '-3', 'expected a number of seconds above 0'],
    ['OPENAI_RATE_LIMIT_RPM', '2.5', 'expected a whole number'],
    ['LLM_GOVERNOR_CACHE_STORE', 'disk', 'expected auto, memory or redis'],
    ['LLM_GOVERNOR_MODERATION_FAILURE_MODE', 'maybe', 'expected open or closed'],
  ])('names %s and what is expected, and keeps the default', (variable, value, expected) => {
    const { config, problems } = loadConfig({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0].source).toBe(variable);
    expect(problems[0].message).toContain(expected);
    expect(problems[0].message).toContain(JSON.stringify(value));
    expect(config).toEqual(loadConfig({}).config);
  });

  it('reads the resilience settings from their variables and aliases', () => {
    const { config, problems } = loadConfig({
      OPENAI_MAX_RETRIES: '4',
      OPENAI_TIMEOUT_SECONDS: '12.5',
      OPENAI_RATE_LIMIT_RPM: '60',
      LLM_GOVERNOR_RATE_LIMIT_TPM: '90000',
      LLM_GOVERNOR_CACHE: 'on',
      LLM_GOVERNOR_MODERATION_CATEGORIES: 'harassment, violence',
      OPENAI_CIRCUIT_BREAKER_FAILURES: '7',
      OPENAI_CIRCUIT_BREAKER_TIMEOUT: '45',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({
      max_retries: 4,
      timeout_seconds: 12.5,
      rate_limit_rpm: 60,
      rate_limit_tpm: 90000,
      cache_enabled: true,
      cache_ttl_seconds: 86400,
      moderation_categories: ['harassment', 'violence'],
      breaker_failures: 7,
      breaker_reset_seconds: 45,
    });
  });

  it('checks fallback chains and moderation rules in the config file, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-governor-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        fallbacks: [{ primary: { provider: 'azure', model: 'gpt-4o' }, backups: [] }],
        moderation_rules: [{ name: 'bad', pattern: '\\-', flags: 'u' }],
      }),
    );
    const { problems } = loadConfig({ LLM_GOVERNOR_CONFIG: file });
    const text = problems.map((p) => `${p.source}: ${p.message}`).join('\n');
    expect(text).toContain('fallbacks');
    expect(text).toContain('expected one of openai, azure.ai.openai, x_ai');
    expect(text).toContain('expected at least one backup');
    expect(text).toContain('expected a valid regular expression (with flags "u")');
  });

  it('keeps the valid settings when another one is bad', () => {
    const { config, problems } = loadConfig({ LLM_GOVERNOR_SDK: 'off', LLM_GOVERNOR_DISABLED: 'perhaps' });
    expect(config.sdk).toBe('off');
    expect(problems.map((p) => p.source)).toEqual(['LLM_GOVERNOR_DISABLED']);
  });

  it('reads YAML and JSON files; the environment overrides the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-config-'));
    const yaml = join(dir, 'c.yaml');
    writeFileSync(yaml, 'capture_content: true\nsdk: off\nprovider_overrides:\n  llm.internal: x_ai\n');
    const a = loadConfig({ LLM_GOVERNOR_CONFIG: yaml, LLM_GOVERNOR_SDK: 'on' });
    expect(a.problems).toEqual([]);
    expect(a.config).toMatchObject({ capture_content: true, sdk: 'on', provider_overrides: { 'llm.internal': 'x_ai' } });
    const json = join(dir, 'c.json');
    writeFileSync(json, JSON.stringify({ request_stream_usage: false }));
    expect(loadConfig({ LLM_GOVERNOR_CONFIG: json }).config.request_stream_usage).toBe(false);
  });

  it('names the file and key for bad file values and unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'provider_overrides:\n  llm.internal: grok\nbudgetz: 3\n');
    const { problems } = loadConfig({ LLM_GOVERNOR_CONFIG: file });
    const text = problems.map((p) => `${p.source}: ${p.message}`).join('\n');
    expect(text).toContain(`LLM_GOVERNOR_CONFIG (${file}): provider_overrides.llm.internal`);
    expect(text).toContain('expected one of openai, azure.ai.openai, x_ai');
    expect(text).toContain('budgetz: is not a known setting');
  });

  it('reports an unreadable file and goes on with defaults', () => {
    const { config, problems } = loadConfig({ LLM_GOVERNOR_CONFIG: '/nonexistent/llm-governor.yaml' });
    expect(problems[0].source).toContain('LLM_GOVERNOR_CONFIG');
    expect(problems[0].message).toContain('cannot be read');
    expect(config.sdk).toBe('auto');
  });
});
