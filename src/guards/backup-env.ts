import type { TargetConfig } from '../config/schema';
import { PROVIDER, type ProviderName } from '../semconv';

/**
 * Where a backup's requests go and the credential they carry, read from its provider's standard
 * environment (or the backup's `base_url`). The one reading of it: the openai SDK's backup
 * clients are built from it (`sdk-backups.ts`), and so are the wire entry's backup requests
 * (`fetch/backup-request.ts`).
 *
 * | provider          | from                                                                    |
 * | `openai`          | `OPENAI_API_KEY`; `OPENAI_BASE_URL` (default OpenAI's own)              |
 * | `azure.ai.openai` | `AZURE_OPENAI_ENDPOINT` (+ `/openai`), `AZURE_OPENAI_API_KEY`;          |
 * |                   | `AZURE_API_VERSION` or `OPENAI_API_VERSION` (default `2024-10-21`)      |
 * | `x_ai`            | `XAI_API_KEY`; `XAI_API_ENDPOINT` or `XAI_BASE_URL` (default xAI's own) |
 */
export interface BackupEndpoint {
  readonly provider: ProviderName;
  readonly apiKey: string;
  /** The URL up to the operation's path (Azure: the resource's `…/openai`), no trailing slash. */
  readonly baseURL: string;
  /** Azure only: the `api-version` every request names. */
  readonly apiVersion?: string;
}

/** How a way into the call makes a backup's client from its endpoint (throws when it cannot). */
export interface BackupMaker {
  make(endpoint: BackupEndpoint): unknown;
}

const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_XAI_BASE_URL = 'https://api.x.ai/v1';
/** The Azure OpenAI GA API version used when neither AZURE_API_VERSION nor OPENAI_API_VERSION is set. */
const DEFAULT_AZURE_API_VERSION = '2024-10-21';

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/** The backup's endpoint; throws an error naming the variable that is missing. */
export function backupEndpoint(cfg: TargetConfig, env: NodeJS.ProcessEnv): BackupEndpoint {
  switch (cfg.provider) {
    case PROVIDER.OPENAI:
      return { provider: cfg.provider, apiKey: required(env, 'OPENAI_API_KEY'), baseURL: trimSlash(cfg.base_url ?? (env.OPENAI_BASE_URL || DEFAULT_OPENAI_BASE_URL)) };
    case PROVIDER.XAI:
      return { provider: cfg.provider, apiKey: required(env, 'XAI_API_KEY'), baseURL: trimSlash(cfg.base_url ?? (env.XAI_API_ENDPOINT || env.XAI_BASE_URL || DEFAULT_XAI_BASE_URL)) };
    case PROVIDER.AZURE: {
      const baseURL = cfg.base_url ?? `${trimSlash(required(env, 'AZURE_OPENAI_ENDPOINT'))}/openai`;
      const apiVersion = env.AZURE_API_VERSION || env.OPENAI_API_VERSION || DEFAULT_AZURE_API_VERSION;
      return { provider: cfg.provider, apiKey: required(env, 'AZURE_OPENAI_API_KEY'), baseURL: trimSlash(baseURL), apiVersion };
    }
    default:
      throw new Error(`unknown provider ${String(cfg.provider)}`);
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
