// The secret scan: every place the package writes to, searched for API keys, authorization
// headers and (unless content capture is on) prompt text.

export interface Finding {
  where: string;
  what: string;
  context: string;
}

/** Credential shapes, whatever the key: bearer tokens and key-like header assignments. */
const SHAPES: { name: string; re: RegExp }[] = [
  { name: 'Bearer token', re: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/i },
  { name: 'authorization header', re: /["']?authorization["']?\s*[:=]\s*["']?(?!\[REDACTED\])[A-Za-z]/i },
  { name: 'api-key header', re: /["']?api-key["']?\s*[:=]\s*["']?(?!\[REDACTED\])[A-Za-z0-9]/i },
];

/** Every occurrence of each needle (exact strings: keys, prompts) and credential shape, per output. */
export function scan(outputs: Record<string, string>, needles: string[]): Finding[] {
  const findings: Finding[] = [];
  for (const [where, text] of Object.entries(outputs)) {
    for (const needle of needles) {
      let at = text.indexOf(needle);
      while (at >= 0) {
        findings.push({ where, what: needle, context: text.slice(Math.max(0, at - 60), at + needle.length + 60) });
        at = text.indexOf(needle, at + needle.length);
      }
    }
    for (const { name, re } of SHAPES) {
      const m = re.exec(text);
      if (m) findings.push({ where, what: name, context: text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 60) });
    }
  }
  return findings;
}
