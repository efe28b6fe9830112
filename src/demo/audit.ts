import { readFileSync } from 'node:fs';
import { ocsfApiActivitySchema } from '../audit/ocsf';

export interface AuditSummary {
  valid: number;
  invalid: number;
  kinds: Record<string, number>;
  /** The `config_loaded` events' messages and times, in order. */
  reloads: { time: number; message: string }[];
}

/** Counts the audit file's events by kind, validating each against the OCSF schema. */
export function readAudit(file: string): AuditSummary {
  const out: AuditSummary = { valid: 0, invalid: 0, kinds: {}, reloads: [] };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = ocsfApiActivitySchema.parse(JSON.parse(line));
      out.valid++;
      out.kinds[e.unmapped.kind] = (out.kinds[e.unmapped.kind] ?? 0) + 1;
      if (e.unmapped.kind === 'config_loaded') out.reloads.push({ time: e.time, message: e.message });
    } catch {
      out.invalid++;
    }
  }
  return out;
}
