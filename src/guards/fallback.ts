import { diag } from '@opentelemetry/api';
import type { FallbackConfig, TargetConfig } from '../config/schema';
import { detectProvider, type ProviderInfo } from '../providers/detect';
import { backupEndpoint, type BackupEndpoint, type BackupMaker } from './backup-env';
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
  /** What to send with: the app's SDK client, a backup's client from the same SDK, or (the wire entry) a backup's endpoint. */
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

/**
 * Builds backup clients from each provider's standard environment (`backup-env.ts`), once per
 * maker (a copy of the openai SDK, or the wire entry) and backup. A backup whose environment is
 * incomplete is skipped, with one warning naming the variable that is missing.
 */
export class BackupClients {
  private readonly built = new WeakMap<BackupMaker, Map<string, Omit<Target, 'model' | 'primary'> | null>>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly overrides: () => Record<string, any> = () => ({}),
  ) {}

  /** The backup targets for a call, with their clients; those that cannot be built are left out. */
  targets(configs: readonly TargetConfig[], requestModel: string, maker: BackupMaker): Target[] {
    const out: Target[] = [];
    for (const cfg of configs) {
      const backup = this.backup(cfg, maker);
      if (backup) out.push({ ...backup, model: cfg.model ?? requestModel, primary: false });
    }
    return out;
  }

  private backup(cfg: TargetConfig, maker: BackupMaker): Omit<Target, 'model' | 'primary'> | undefined {
    let byTarget = this.built.get(maker);
    if (!byTarget) this.built.set(maker, (byTarget = new Map()));
    const id = `${cfg.provider}|${cfg.base_url ?? ''}`;
    if (byTarget.has(id)) return byTarget.get(id) ?? undefined;
    let backup: Omit<Target, 'model' | 'primary'> | null = null;
    try {
      const endpoint = backupEndpoint(cfg, this.env);
      backup = { client: maker.make(endpoint), provider: this.detect(endpoint) };
    } catch (err) {
      diag.warn(`llm-governor: fallback to ${cfg.provider}${cfg.model ? ` ${cfg.model}` : ''} is skipped: ${(err as Error).message}`);
    }
    byTarget.set(id, backup);
    return backup ?? undefined;
  }

  private detect(endpoint: BackupEndpoint): ProviderInfo {
    const info = detectProvider({
      baseURL: endpoint.baseURL,
      isAzureClient: endpoint.provider === PROVIDER.AZURE,
      overrides: this.overrides(),
      xaiEndpoint: this.env.XAI_API_ENDPOINT,
    });
    // The config says which provider this backup is, whatever its URL looks like.
    return { ...info, name: endpoint.provider };
  }
}
