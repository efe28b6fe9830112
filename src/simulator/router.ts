/** Maps a request path to a provider and an operation (`chat/completions`, `embeddings`, …). */
import type { Provider } from './types';

export interface RouteInfo {
  provider: Provider;
  /** The operation path without the provider prefix, e.g. `chat/completions`. */
  op: string;
  /** Azure deployment name from `/openai/deployments/{deployment}/…`. */
  deployment?: string;
  /** Azure `api-version` was required for this form of path. */
  needsApiVersion: boolean;
}

/** Paths served outside any provider prefix (generated image files). */
export const FILES_PREFIX = '/sim-files/';

export function resolveRoute(pathname: string): RouteInfo | undefined {
  const path = pathname.replace(/\/+$/, '');
  let m = /^\/xai\/v1\/(.+)$/.exec(path);
  if (m) return { provider: 'xai', op: m[1]!, needsApiVersion: false };
  m = /^\/openai\/deployments\/([^/]+)\/(.+)$/.exec(path);
  if (m) return { provider: 'azure', deployment: decodeURIComponent(m[1]!), op: m[2]!, needsApiVersion: true };
  m = /^\/openai\/v1\/(.+)$/.exec(path);
  if (m) return { provider: 'azure', op: m[1]!, needsApiVersion: false };
  m = /^\/openai\/(.+)$/.exec(path);
  if (m) return { provider: 'azure', op: m[1]!, needsApiVersion: true };
  m = /^\/v1\/(.+)$/.exec(path);
  if (m) return { provider: 'openai', op: m[1]!, needsApiVersion: false };
  return undefined;
}
