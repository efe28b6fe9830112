/** Public types of the provider simulator (re-exported from ./index). */

export type Provider = 'openai' | 'azure' | 'xai';

export type FaultKind = '400' | '429' | '500' | '503' | 'hang' | 'reset' | 'truncate' | 'malformed';

export interface FaultRule {
  kind: FaultKind;
  /** 0..1, default 1; drawn from the seeded PRNG. */
  probability?: number;
  /** Apply to the first N matching requests only (counted after `after`). */
  count?: number;
  /** Skip the first N matching requests. */
  after?: number;
  /** path = substring of the request path, model = exact or glob with `*`. */
  match?: { path?: string; model?: string; provider?: Provider };
  /** For 429 (and 503): sets `retry-after` (and `retry-after-ms`). */
  retryAfterSeconds?: number;
}

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 42: all randomness (text, latency jitter, fault draws) is deterministic per seed. */
  seed?: number;
  /** Base delay before the response (default 0); jitter ±20%, seeded. */
  latencyMs?: number;
  /** Delay between stream chunks (default 0). */
  chunkDelayMs?: number;
  faults?: FaultRule[];
  /** Default true: 401 in the real error shape when no `Authorization: Bearer` / `api-key` header. */
  requireAuth?: boolean;
  /**
   * Azure deployment name → the model it runs. Like real Azure, responses report the model, not
   * the deployment. A deployment not listed runs the model it is named after when that is a known
   * model, else `gpt-4o`.
   */
  azureDeployments?: Record<string, string>;
}

export interface SimulatorStats {
  total: number;
  byPath: Record<string, number>;
  byProvider: Record<string, number>;
  byModel: Record<string, number>;
  faults: Record<string, number>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  provider: Provider;
  model?: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
}

export interface Simulator {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** `${url}/v1` -> new OpenAI({ baseURL }) */
  openaiBaseURL: string;
  /** `${url}` -> new AzureOpenAI({ endpoint, apiVersion }) */
  azureEndpoint: string;
  /** `${url}/xai/v1` -> new OpenAI({ baseURL }) speaking to "xAI" */
  xaiBaseURL: string;
  stats(): SimulatorStats;
  /** Every request received, in order (JSON bodies parsed; multipart: the non-file fields). */
  requests(): RecordedRequest[];
  /** Clears stats and requests, resets fault counters, the prompt cache and the PRNG to the seed. */
  reset(): void;
  setFaults(faults: FaultRule[]): void;
  /** Closes the server, destroying open (incl. hanging) sockets. */
  close(): Promise<void>;
}
