/** The per-request context handed to route handlers, and the server-wide state behind it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Prng } from './prng';
import type { RouteInfo } from './router';
import type { PromptCache } from './cache';
import type { RateWindow } from './ratelimit';
import type { MultipartFile } from './multipart';

export interface SimState {
  seed: number;
  url: string;
  chunkDelayMs: number;
  promptCache: PromptCache;
  rate: RateWindow;
  /** Generated images served back under FILES_PREFIX when a URL is requested. */
  files: Map<string, { contentType: string; data: Buffer }>;
  /** Resolves sleeps early and stops writers once the simulator closes. */
  closing: AbortSignal;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  state: SimState;
  method: string;
  pathname: string;
  query: URLSearchParams;
  route: RouteInfo;
  /** Parsed JSON body, or the non-file multipart fields. */
  body: Record<string, any>;
  files: MultipartFile[];
  /** The requested model (Azure: the deployment when the body names none). */
  model?: string;
  /** Deterministic from the seed and the request content. */
  rng: Prng;
  /** Deterministic from the seed and the request's sequence number (ids). */
  ids: Prng;
  /** Delivery fault the response writers apply. */
  fault?: 'truncate' | 'malformed';
  omitUsage: boolean;
  requestId: string;
  startedAt: number;
}

/** Unix seconds, as in `created`. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
