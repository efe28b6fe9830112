import { PROVIDER, type ProviderName } from '../semconv';

/** What the instrumentation needs to know about the client a call goes through. */
export interface ProviderInfo {
  name: ProviderName;
  serverAddress?: string;
  serverPort?: number;
  baseURL: string;
}

export interface DetectInput {
  baseURL: string;
  isAzureClient: boolean;
  /** Explicit overrides from config: a base URL prefix or a host, mapped to a provider. */
  overrides?: Readonly<Record<string, ProviderName>>;
  /** `XAI_API_ENDPOINT`, the variable the xAI integration guide uses. */
  xaiEndpoint?: string;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * Decides the provider. The first match wins:
 * 1. an explicit override in config; 2. an AzureOpenAI client or a `*.openai.azure.com` host;
 * 3. host `api.x.ai`, or a base URL equal to `XAI_API_ENDPOINT`; 4. otherwise OpenAI.
 */
export function detectProvider(input: DetectInput): ProviderInfo {
  let url: URL | undefined;
  try {
    url = new URL(input.baseURL);
  } catch {
    url = undefined;
  }
  const host = url?.hostname ?? '';
  const port = url ? Number(url.port || (url.protocol === 'http:' ? 80 : 443)) : undefined;
  const base = trimSlash(input.baseURL);
  const info = (name: ProviderName): ProviderInfo => ({
    name,
    serverAddress: host || undefined,
    serverPort: port,
    baseURL: input.baseURL,
  });

  if (input.overrides) {
    for (const [key, name] of Object.entries(input.overrides)) {
      if (key === host || (key.includes('://') && base.startsWith(trimSlash(key)))) return info(name);
    }
  }
  if (input.isAzureClient || host.endsWith('.openai.azure.com')) return info(PROVIDER.AZURE);
  if (host === 'api.x.ai') return info(PROVIDER.XAI);
  if (input.xaiEndpoint && trimSlash(input.xaiEndpoint) === base) return info(PROVIDER.XAI);
  return info(PROVIDER.OPENAI);
}
