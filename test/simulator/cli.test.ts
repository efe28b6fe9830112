import { describe, expect, it, vi } from 'vitest';
import { parseSimulateArgs, runSimulatorCli, SIMULATE_USAGE } from '../../src/simulator/index';

describe('parseSimulateArgs', () => {
  it('parses the documented flags (with or without the `simulate` word)', () => {
    expect(parseSimulateArgs(['simulate', '--port', '8787', '--seed', '1', '--latency', '50', '--fault', '429:0.1', '--fault', '500:0.05'])).toEqual({
      port: 8787,
      seed: 1,
      latencyMs: 50,
      faults: [
        { kind: '429', probability: 0.1 },
        { kind: '500', probability: 0.05 },
      ],
    });
    expect(parseSimulateArgs(['--host=0.0.0.0', '--chunk-delay=5', '--no-auth'])).toEqual({ host: '0.0.0.0', chunkDelayMs: 5, requireAuth: false, faults: [] });
    expect(parseSimulateArgs(['--help'])).toBeUndefined();
  });

  it.each([['--port', 'abc'], ['--bogus'], ['--fault', 'teapot']])('rejects %j', (...args) => {
    expect(() => parseSimulateArgs(args)).toThrow();
  });
});

describe('runSimulatorCli', () => {
  it('prints the URLs, serves until stopped, then closes', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const run = runSimulatorCli(['simulate', '--seed', '3', '--fault', '503:0.5'], { out: (l) => lines.push(l), signal: stop.signal });
    await vi.waitFor(() => expect(lines.some((l) => l.includes('Press Ctrl+C'))).toBe(true));
    const url = /listening on (\S+)/.exec(lines[0]!)![1]!;
    expect(lines.join('\n')).toContain(`${url}/v1`);
    expect(lines.join('\n')).toContain(`${url}/xai/v1`);
    expect(lines.join('\n')).toContain('faults: 503 p=0.5');
    expect(lines.join('\n')).not.toMatch(/sk-|api[-_]?key/i);
    const res = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer k' } });
    expect([200, 503]).toContain(res.status);
    stop.abort();
    await run;
    expect(lines.at(-1)).toBe('simulator stopped after 1 request');
    await expect(fetch(`${url}/v1/models`)).rejects.toThrow();
  });

  it('stops on SIGINT', async () => {
    const lines: string[] = [];
    const run = runSimulatorCli([], { out: (l) => lines.push(l) });
    await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0));
    process.emit('SIGINT', 'SIGINT');
    await run;
    expect(lines.at(-1)).toMatch(/^simulator stopped/);
  });

  it('prints help', async () => {
    const lines: string[] = [];
    await runSimulatorCli(['simulate', '-h'], { out: (l) => lines.push(l) });
    expect(lines).toEqual([SIMULATE_USAGE]);
  });
});
