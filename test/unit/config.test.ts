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
  ])('names %s and what is expected, and keeps the default', (variable, value, expected) => {
    const { config, problems } = loadConfig({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0].source).toBe(variable);
    expect(problems[0].message).toContain(expected);
    expect(problems[0].message).toContain(JSON.stringify(value));
    expect(config).toEqual(loadConfig({}).config);
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
