import { expect } from 'vitest';

/**
 * The deliberate differences between an app's transcript bare and under the preload, by case.
 * Only one: a stream cut off mid-body fails with the fetch implementation's raw error in the bare
 * SDK (undici's `TypeError: terminated`; node-fetch's `Error` under openai 4); with the preload it
 * is the SDK's own `APIConnectionError` (its `cause` is that error), so that every error a call
 * raises is an `APIError`.
 */
const DELIBERATE_DIFFERENCES: Record<string, { bare: object; governed: object }> = {
  streamTruncated: { bare: { threw: true, cls: expect.not.stringMatching(/^API/) }, governed: { cls: 'APIConnectionError' } },
};

/** The governed transcript equals the bare one, case by case, but for the deliberate differences. */
export function expectSameTranscript(bare: any[], governed: any[]): void {
  expect(bare.length).toBeGreaterThan(0);
  for (let i = 0; i < bare.length; i++) {
    const diff = DELIBERATE_DIFFERENCES[bare[i].case];
    if (diff) expect(bare[i], bare[i].case).toMatchObject(diff.bare);
    expect(governed[i], bare[i].case).toEqual({ ...bare[i], ...diff?.governed });
  }
  expect(governed.length).toBe(bare.length);
  expect(bare.filter((l) => l.unexpected)).toEqual([]);
}
