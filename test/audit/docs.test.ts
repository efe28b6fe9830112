// The README's audit section stays true: its sample event is valid, and it names every event
// kind and every audit setting.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_KINDS, ocsfApiActivitySchema } from '../../src/audit/ocsf';
import { configSchema } from '../../src/config/schema';
import { ENV_BINDINGS } from '../../src/config/sources';

const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Audit trail'), readme.indexOf('\n## ', readme.indexOf('## Audit trail') + 5));

describe('README: Audit trail', () => {
  it('shows a sample event that validates against the schema', () => {
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const parsed = ocsfApiActivitySchema.safeParse(JSON.parse(json!));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('names every event kind, and every audit setting with its variable', () => {
    for (const kind of Object.keys(AUDIT_KINDS)) expect(section, kind).toContain(`\`${kind}\``);
    const keys = Object.keys(configSchema.shape).filter((k) => k.startsWith('audit_'));
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) {
      expect(section, key).toContain(`\`${key}\``);
      for (const env of ENV_BINDINGS.find((b) => b.key === key)!.env) expect(section, env).toContain(`\`${env}\``);
    }
  });
});
