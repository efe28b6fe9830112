import { subscribe } from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import { currentCall } from '../call';
import { clientOf } from './clients';
import { providerRequest, type Endpoints } from './endpoints';

/**
 * Provider calls that no entry governs are never silent: a request to a provider endpoint that
 * goes out through Node's `http` module (a bundled openai 4 over node-fetch, axios, a raw
 * `http.request`) is seen on the `http.client.request.start` diagnostics channel, counted in
 * `llm_governor_ungoverned_requests_total{client,host}` and warned about once per client and host.
 * The SDK adapter's own sends (openai 4 unbundled, over node-fetch) run inside their call, and
 * are not counted.
 */
export function watchUngoverned(endpoints: Endpoints, count: (client: string, host: string) => void): void {
  subscribe('http.client.request.start', (message) => {
    try {
      if (currentCall()) return;
      const request = (message as { request?: RequestLike }).request;
      if (!request) return;
      const host = String(request.getHeader('host') ?? request.host ?? '');
      const url = `${request.protocol ?? 'http:'}//${host}${request.path ?? '/'}`;
      if (!providerRequest(url, request.method, endpoints)) return;
      const ua = request.getHeader('user-agent');
      const client = clientLabel(typeof ua === 'string' ? ua : undefined);
      count(client, host);
      diag.warn(
        `llm-governor: a call to ${host} by ${client} is not governed (no spans, no cost, no budgets): it went out through Node's http module, which no entry of ours sees. ` +
          'Load openai without bundling it (the --require/--import hook patches it), use openai 5 or later or the AI SDK (their fetch is governed), or wrap(client).',
      );
    } catch {
      /* telemetry never throws into the app */
    }
  });
}

interface RequestLike {
  host?: string;
  path?: string;
  method?: string;
  protocol?: string;
  getHeader(name: string): unknown;
}

/** The client as a bounded label: the wire entry's clients, and the HTTP libraries that bypass fetch. */
function clientLabel(ua: string | undefined): string {
  const known = clientOf(ua);
  if (known !== 'other') return known;
  if (!ua) return 'unknown';
  if (/^axios\//i.test(ua)) return 'axios';
  if (/node-fetch/i.test(ua)) return 'node-fetch';
  return 'other';
}
