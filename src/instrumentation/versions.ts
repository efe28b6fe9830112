/** openai SDK versions this package is tested against (the compatibility suite runs each major). */
const TESTED_RANGE = { min: [4, 20, 0], maxMajorExclusive: 8 } as const;

function parseVersion(v: string | undefined): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function isTestedVersion(v: string | undefined): boolean {
  const p = parseVersion(v);
  if (!p) return false;
  const [maj, min, patch] = p;
  const [lo0, lo1, lo2] = TESTED_RANGE.min;
  if (maj >= TESTED_RANGE.maxMajorExclusive) return false;
  if (maj !== lo0) return maj > lo0;
  if (min !== lo1) return min > lo1;
  return patch >= lo2;
}
