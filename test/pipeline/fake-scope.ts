import type { Target } from '../../src/guards/fallback';
import { configSchema } from '../../src/config/schema';
import type { CallEnd, CallScope, Outgoing, Send } from '../../src/pipeline/send-layer';

/**
 * A call scope and guards made of plain objects, for the send layers' unit tests: everything a
 * layer does to its call (audit, attributes, refusals counted, finish callbacks) is recorded.
 */
export function target(name: string, primary = false): Target {
  return { provider: { name: name as never, serverAddress: `${name}.example`, serverPort: 443 } as never, model: 'm', client: {}, primary };
}

export interface FakeBreaker {
  open: Set<string>;
  settled: Array<[string, boolean]>;
}

export function fakeScope(over: Partial<CallScope> & { backups?: Target[]; breaker?: FakeBreaker; limiter?: object } = {}) {
  const log = {
    audits: [] as string[],
    rejected: [] as string[],
    retries: [] as string[],
    fallbacks: [] as string[],
    served: [] as string[],
    finishers: [] as Array<(e: CallEnd) => void>,
    attrs: {} as Record<string, unknown>,
  };
  const config = configSchema.parse({ retry_max_delay_seconds: 0.001, fallbacks: over.backups?.length ? [{ primary: { provider: 'openai' }, backups: [{ provider: 'x_ai' }] }] : [] });
  const breaker = over.breaker;
  const guards = {
    breakers: breaker && {
      isOpen: (k: { id: string }) => breaker.open.has(k.id.split('|')[0]!),
      admit: (k: { id: string }) => ({ settle: (failure: boolean) => breaker.settled.push([k.id.split('|')[0]!, failure]) }),
      refusal: () => Object.assign(new Error('open'), { llmGovernorCode: 'circuit_open', status: 503, details: {} }),
    },
    limiter: over.limiter,
    metrics: { retry: (p: string) => log.retries.push(p), fallback: (from: string, to: string) => log.fallbacks.push(`${from}>${to}`) },
    backups: { targets: () => over.backups ?? [] },
    cache: { set: () => Promise.resolve() },
  };
  const scope: CallScope = {
    config,
    guards: guards as never,
    signal: undefined,
    controller: new AbortController(),
    ownsRetries: true,
    maxRetries: 2,
    stream: false,
    primary: target('openai', true),
    backupMaker: over.backups?.length ? { make: () => ({}) } : undefined,
    requestModel: 'm',
    tokens: () => 10,
    build: async () => ({ url: 'http://x', ms: 1000, send: async () => new Response('{}') }),
    prepareBackup: () => true,
    switchTo: async (to, from) => void log.fallbacks.push(`${from.provider.name}>${to.provider.name}`),
    served: (t) => void log.served.push(t.provider.name),
    answerRead: () => undefined,
    servedStale: () => void log.audits.push('cache_stale_served'),
    attemptStarted: () => undefined,
    attemptFinished: () => undefined,
    audit: (kind) => void log.audits.push(kind),
    setAttribute: (k, v) => void (log.attrs[k] = v),
    countRejected: (r) => void log.rejected.push(r),
    onFinish: (cb) => void log.finishers.push(cb),
    ...over,
  };
  return { scope, log };
}

/** A transport that answers from a script per target name: a status, or 'throw' for a connection error. */
export function scriptedNext(script: Record<string, Array<number | 'throw'>>, seen: string[] = []): Send {
  const at: Record<string, number> = {};
  return async (req: Outgoing) => {
    const name = req.target.provider.name as string;
    const i = (at[name] = (at[name] ?? -1) + 1);
    const step = script[name]?.[Math.min(i, script[name]!.length - 1)] ?? 200;
    seen.push(`${name}#${req.retry}`);
    if (step === 'throw') {
      const { AttemptFailed } = await import('../../src/pipeline/send-layer');
      throw new AttemptFailed(new TypeError('fetch failed'), 'TypeError', true);
    }
    return new Response(JSON.stringify({ status: step }), { status: step, headers: { 'content-type': 'application/json' } });
  };
}
