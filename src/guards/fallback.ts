import { diag } from '@opentelemetry/api';
import type { FallbackConfig, TargetConfig } from '../config/schema';
import { detectProvider, type ProviderInfo } from '../providers/detect';
import { PROVIDER } from '../semconv';

/** The SDK's client classes, from the same copy of `openai` the app's client came from. */
export interface ClientClasses {
  OpenAI: new (opts?: Record<string, unknown>) => any;
  AzureOpenAI?: new (opts?: Record<string, unknown>) => any;
}

/** Where a call can be sent: the app's own client (primary) or a backup built from the environment. */
export interface Target {
  provider: ProviderInfo;
  /** The model (Azure: deployment) to ask for. */
  model: string;
  /** The client to send with. */
  client: any;
  primary: boolean;
}

/** Which backups follow a primary, in order. The first chain whose primary matches wins. */
export function backupsFor(fallbacks: readonly FallbackConfig[], provider: string, model: string | undefined): TargetConfig[] {
  for (const chain of fallbacks) {
    if (chain.primary.provider !== provider) continue;
    if (chain.primary.model !== undefined && chain.primary.model !== model) continue;
    return chain.backups;
  }
  return [];
}

const DEFAULT_XAI_BASE_URL = 'https://api.x.ai/v1';
/** The Azure OpenAI GA API version used when neither AZURE_API_VERSION nor OPENAI_API_VERSION is set. */
const DEFAULT_AZURE_API_VERSION = '2024-10-21';

/**
 * Builds backup clients from each provider's standard environment, once per SDK copy and
 * provider. A backup whose environment is incomplete is skipped, with one warning naming the
 * variable that is missing.
 */
export class BackupClients {
  private readonly clients = new WeakMap<object, Map<string, any | null>>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly overrides: () => Record<string, any> = () => ({}),
  ) {}

  /** The backup targets for a call, with their clients; those that cannot be built are left out. */
  targets(configs: readonly TargetConfig[], requestModel: string, classes: ClientClasses): Target[] {
    const out: Target[] = [];
    for (const cfg of configs) {
      const client = this.client(cfg, classes);
      if (!client) continue;
      out.push({ provider: this.providerOf(client, cfg.provider), model: cfg.model ?? requestModel, client, primary: false });
    }
    return out;
  }

  /** Backup clients are built once, so is what they are: detecting parses a URL. */
  private readonly providers = new WeakMap<object, Map<string, ProviderInfo>>();

  private providerOf(client: any, provider: string): ProviderInfo {
    let known = this.providers.get(client);
    if (!known) this.providers.set(client, (known = new Map()));
    let info = known.get(provider);
    if (!info) known.set(provider, (info = this.detect(client, provider)));
    return info;
  }

  private detect(client: any, provider: string): ProviderInfo {
    const info = detectProvider({
      baseURL: String(client.baseURL ?? ''),
      isAzureClient: provider === PROVIDER.AZURE,
      overrides: this.overrides(),
      xaiEndpoint: this.env.XAI_API_ENDPOINT,
    });
    // The config says which provider this backup is, whatever its URL looks like.
    return { ...info, name: provider as ProviderInfo['name'] };
  }

  private client(cfg: TargetConfig, classes: ClientClasses): any | undefined {
    let byTarget = this.clients.get(classes.OpenAI);
    if (!byTarget) this.clients.set(classes.OpenAI, (byTarget = new Map()));
    const id = `${cfg.provider}|${cfg.base_url ?? ''}`;
    if (byTarget.has(id)) return byTarget.get(id) ?? undefined;
    let client: any = null;
    try {
      client = this.build(cfg, classes);
    } catch (err) {
      diag.warn(`llm-governor: fallback to ${cfg.provider}${cfg.model ? ` ${cfg.model}` : ''} is skipped: ${(err as Error).message}`);
    }
    byTarget.set(id, client);
    return client ?? undefined;
  }

  private build(cfg: TargetConfig, classes: ClientClasses): any {
    const env = this.env;
    // Our loop retries; the backup client must not retry on its own.
    const common = { maxRetries: 0 };
    switch (cfg.provider) {
      case PROVIDER.OPENAI:
        return new classes.OpenAI({ ...common, apiKey: required(env, 'OPENAI_API_KEY'), baseURL: cfg.base_url ?? (env.OPENAI_BASE_URL || undefined) });
      case PROVIDER.XAI:
        return new classes.OpenAI({ ...common, apiKey: required(env, 'XAI_API_KEY'), baseURL: cfg.base_url ?? (env.XAI_API_ENDPOINT || DEFAULT_XAI_BASE_URL) });
      case PROVIDER.AZURE: {
        if (!classes.AzureOpenAI) throw new Error('this copy of the openai SDK has no AzureOpenAI client');
        const endpoint = cfg.base_url ? undefined : required(env, 'AZURE_OPENAI_ENDPOINT').replace(/\/+$/, '');
        const apiVersion = env.AZURE_API_VERSION || env.OPENAI_API_VERSION || DEFAULT_AZURE_API_VERSION;
        // baseURL, never endpoint: AzureOpenAI would otherwise also read OPENAI_BASE_URL and refuse both.
        return new classes.AzureOpenAI({ ...common, apiKey: required(env, 'AZURE_OPENAI_API_KEY'), apiVersion, baseURL: cfg.base_url ?? `${endpoint}/openai` });
      }
      default:
        throw new Error(`unknown provider ${String(cfg.provider)}`);
    }
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
