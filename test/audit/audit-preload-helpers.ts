// What the audit-trail preload tests read and check: the events in the audit file and in syslog
// frames, and that nothing secret and nothing missing is in what the package wrote.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ocsfApiActivitySchema, type AuditKind, type OcsfApiActivity } from '../../src/audit/ocsf';
import type { ObservedRun } from '../helpers/observed-run';

/** The keys the fixtures use: none may appear in anything the package writes. */
const KEYS = ['sk-test-resilience-0123456789', 'sk-test-budget-0123456789', 'azure-test-key-0123456789', 'xai-test-key-0123456789', 'sk-test-backup-0123456789'];

/** The OCSF events in syslog frames (RFC 6587 octet-counted, each an RFC 5424 message). */
export function syslogEvents(chunks: Buffer[]): OcsfApiActivity[] {
  const buf = Buffer.concat(chunks);
  const out: OcsfApiActivity[] = [];
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    const len = Number(buf.subarray(at, space).toString('ascii'));
    const msg = buf.subarray(space + 1, space + 1 + len).toString('utf8');
    at = space + 1 + len;
    expect(msg).toMatch(/^<\d{1,3}>1 \S+ \S+ llm-governor \d+ \S+ \[llmgov@32473 [^\]]*\] \uFEFF\{/);
    out.push(JSON.parse(msg.slice(msg.indexOf('\uFEFF') + 1)));
  }
  return out;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'llm-governor-audit-'));
}

export function configFile(dir: string, yaml: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

export function readEvents(file: string): OcsfApiActivity[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = ocsfApiActivitySchema.safeParse(JSON.parse(line));
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
      return parsed.data!;
    });
}

/** No key in the file, the OTLP payloads, the scrape, stdout or stderr; no prompt text anywhere. */
export function expectNothingSecret(r: ObservedRun, file: string, prompts: string[] = []): void {
  const outputs = { audit: readFileSync(file, 'utf8'), otlp: r.otlpRaw.join('\n'), scrape: r.scrape, stdout: r.stdout, stderr: r.stderr };
  for (const [where, text] of Object.entries(outputs)) {
    for (const key of KEYS) expect(text.includes(key), `${key} in ${where}`).toBe(false);
    expect(/Bearer\s/i.test(text), `Bearer in ${where}`).toBe(false);
    for (const p of prompts) expect(text.includes(p), `prompt in ${where}`).toBe(false);
  }
}

/** Every audit event of the file also arrived as an OTLP log record, with the same body. */
export function expectSameAsOtlp(events: OcsfApiActivity[], r: ObservedRun): void {
  const records = r.logs.filter((l) => l.eventName === 'llm_governor.audit');
  const byUid = new Map(records.map((l) => [(l.body as OcsfApiActivity).metadata.uid, l]));
  expect(records.length, JSON.stringify(events.map((e) => e.unmapped.kind))).toBe(events.length);
  for (const e of events) {
    const record = byUid.get(e.metadata.uid);
    expect(record, `${e.unmapped.kind} ${e.metadata.uid} as an OTLP log`).toBeDefined();
    expect(record!.body).toEqual(e);
    expect(record!.attributes['llm_governor.audit.kind']).toBe(e.unmapped.kind);
  }
}

export const count = (kinds: AuditKind[], kind: AuditKind) => kinds.filter((k) => k === kind).length;
