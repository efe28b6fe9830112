import { billablePaths, operationForPath, type Operation } from '../../operations';
import { PROVIDER, type ProviderName } from '../../semconv';

/**
 * Which requests on the wire are provider calls: by host (or base URL), then by path. Pure: the
 * hosts and base URLs come in, a verdict goes out.
 *
 * Hosts: `api.openai.com`, `api.x.ai`, `*.openai.azure.com`, `*.cognitiveservices.azure.com`,
 * the base URLs in the providers' environment variables, and the hosts and base URLs of the
 * config's `provider_overrides`. Paths: each billable operation's (`/chat/completions`,
 * `/responses`, `/embeddings`, …), as the end of the URL's path, after any base path (`/v1`,
 * Azure's `/openai/deployments/{name}`).
 *
 * The provider a request names: its base URL's (a variable or an override), else its host's (an
 * override, or a provider's own host). An Azure deployment-based URL also names the deployment,
 * which is the request's model when the body has none.
 */

const HOSTS: ReadonlyMap<string, ProviderName> = new Map([
  ['api.openai.com', PROVIDER.OPENAI],
  ['api.x.ai', PROVIDER.XAI],
]);
const HOST_SUFFIXES: ReadonlyArray<readonly [string, ProviderName]> = [
  ['.openai.azure.com', PROVIDER.AZURE],
  ['.cognitiveservices.azure.com', PROVIDER.AZURE],
];

/** The environment variables that hold a provider's base URL, as its SDKs read them. */
const ENV_BASE_URLS: ReadonlyArray<readonly [string, ProviderName]> = [
  ['OPENAI_BASE_URL', PROVIDER.OPENAI],
  ['AZURE_OPENAI_ENDPOINT', PROVIDER.AZURE],
  ['XAI_API_ENDPOINT', PROVIDER.XAI],
  ['XAI_BASE_URL', PROVIDER.XAI],
];

export interface Endpoints {
  /** Extra hosts (a name, or `name:port`), with the provider each is. */
  readonly hosts: ReadonlyMap<string, ProviderName>;
  /** Base URLs (origin and path, no trailing slash), longest first, with the provider each names. */
  readonly bases: ReadonlyArray<readonly [string, ProviderName]>;
}

/** A request found to be a provider call. */
export interface ProviderRequest {
  readonly op: Operation;
  /** The operation's path (`/chat/completions`): the same as the SDK's, for the cache key. */
  readonly path: string;
  /** The URL up to the operation's path: the provider is detected from it. */
  readonly baseURL: string;
  /** `host:port` as the request names it. */
  readonly host: string;
  /** What the base URL's variable or override, or else the host, says the provider is. */
  readonly provider: ProviderName;
  /** The Azure deployment a deployment-based URL names (`…/deployments/{name}/chat/completions`). */
  readonly deployment?: string;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

export function endpointsFrom(env: NodeJS.ProcessEnv, overrides: Readonly<Record<string, ProviderName>> = {}): Endpoints {
  const hosts = new Map<string, ProviderName>();
  const bases: Array<readonly [string, ProviderName]> = [];
  const addBase = (raw: string | undefined, name: ProviderName) => {
    const v = raw?.trim();
    if (!v) return;
    try {
      const u = new URL(v);
      bases.push([trimSlash(`${u.origin}${u.pathname}`), name]);
    } catch {
      /* not a URL: nothing to match */
    }
  };
  for (const [key, name] of Object.entries(overrides)) {
    if (key.includes('://')) addBase(key, name);
    else hosts.set(key.toLowerCase(), name);
  }
  for (const [variable, name] of ENV_BASE_URLS) addBase(env[variable], name);
  bases.sort((a, b) => b[0].length - a[0].length);
  return { hosts, bases };
}

/** The provider whose own host `hostname` is, if it is one. */
function providerHost(hostname: string): ProviderName | undefined {
  return HOSTS.get(hostname) ?? HOST_SUFFIXES.find(([suffix]) => hostname.endsWith(suffix))?.[1];
}

/** The deployment named right before the operation's path (`/deployments/{name}`), decoded. */
function deploymentIn(basePath: string): string | undefined {
  const m = /\/deployments\/([^/]+)$/.exec(basePath);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/**
 * The provider call a request is, or undefined for every other request. `url` is absolute.
 * Only `POST` carries a billable operation.
 */
export function providerRequest(url: string, method: string | undefined, endpoints: Endpoints): ProviderRequest | undefined {
  if (method && method.toUpperCase() !== 'POST') return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const hostname = u.hostname.toLowerCase();
  const where = `${u.origin}${u.pathname}`;
  const base = endpoints.bases.find(([b]) => where === b || where.startsWith(`${b}/`));
  const provider = base?.[1] ?? endpoints.hosts.get(u.host) ?? endpoints.hosts.get(hostname) ?? providerHost(hostname);
  if (!provider) return undefined;
  const path = billablePaths.find((p) => u.pathname.endsWith(p));
  const op = path && operationForPath(path);
  if (!path || !op) return undefined;
  const basePath = u.pathname.slice(0, -path.length);
  return { op, path, baseURL: `${u.origin}${basePath}`, host: u.host, provider, deployment: deploymentIn(basePath) };
}
