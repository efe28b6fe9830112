import type { BackupEndpoint, BackupMaker } from '../../guards/backup-env';
import type { Body } from '../../operations';
import { PROVIDER } from '../../semconv';

/**
 * A backup's request on the wire, made from the client's own request as the backup's provider
 * expects it: its endpoint (`guards/backup-env.ts`, the same environment the openai SDK's backup
 * clients are built from), its URL shape (Azure: the deployment in the path and `api-version`),
 * its credential (Azure: `api-key`; the others: `Authorization: Bearer`), the body with the
 * backup's model, and every other header the client sent but the primary's credentials.
 */

/** A wire backup's "client" is its endpoint: the request is made here, not by an SDK. */
export const wireBackups: BackupMaker = { make: (endpoint) => endpoint };

/** The operations Azure addresses through a deployment (`/deployments/{name}{path}`), as `AzureOpenAI` does. */
const DEPLOYMENT_PATHS: ReadonlySet<string> = new Set([
  '/completions',
  '/chat/completions',
  '/embeddings',
  '/audio/transcriptions',
  '/audio/translations',
  '/audio/speech',
  '/images/generations',
  '/images/edits',
]);

/** What belongs to the primary (its credentials, its account) or to the old body: never sent to a backup. */
const PRIMARY_ONLY = ['authorization', 'api-key', 'x-api-key', 'ocp-apim-subscription-key', 'openai-organization', 'openai-project', 'content-length'];

export interface WireBackupRequest {
  readonly url: string;
  readonly init: RequestInit;
}

/** The request for backup `endpoint` of the operation at `path`, from the client's `init`. */
export function backupRequest(endpoint: BackupEndpoint, path: string, body: Body, init: RequestInit, signal: AbortSignal | null | undefined): WireBackupRequest {
  const headers = new Headers(init.headers);
  for (const name of PRIMARY_ONLY) headers.delete(name);
  headers.set('content-type', 'application/json');
  if (endpoint.provider === PROVIDER.AZURE) headers.set('api-key', endpoint.apiKey);
  else headers.set('authorization', `Bearer ${endpoint.apiKey}`);
  return { url: backupURL(endpoint, path, body), init: { method: 'POST', headers, body: JSON.stringify(body), signal: signal ?? null } };
}

function backupURL(endpoint: BackupEndpoint, path: string, body: Body): string {
  if (endpoint.provider !== PROVIDER.AZURE) return `${endpoint.baseURL}${path}`;
  const model = typeof body.model === 'string' ? body.model : undefined;
  const viaDeployment = model !== undefined && DEPLOYMENT_PATHS.has(path) && !endpoint.baseURL.includes('/deployments');
  const url = `${endpoint.baseURL}${viaDeployment ? `/deployments/${encodeURIComponent(model)}` : ''}${path}`;
  return `${url}?api-version=${encodeURIComponent(endpoint.apiVersion ?? '')}`;
}
