import type { BackupEndpoint, BackupMaker } from '../guards/backup-env';
import type { ClientClasses } from '../guards/fallback';
import { PROVIDER } from '../semconv';

/**
 * The openai SDK's backup clients: built by the same copy of the SDK as the app's client, from
 * the backup's endpoint (`guards/backup-env.ts`), with `maxRetries: 0` (our loop retries; the
 * backup client must not retry on its own). One maker per copy of the SDK, so that its clients
 * are built once.
 */
const makers = new WeakMap<object, BackupMaker>();

export function sdkBackups(classes: ClientClasses): BackupMaker {
  let maker = makers.get(classes.OpenAI);
  if (!maker) makers.set(classes.OpenAI, (maker = { make: (endpoint) => clientFor(endpoint, classes) }));
  return maker;
}

function clientFor(endpoint: BackupEndpoint, classes: ClientClasses): unknown {
  const { apiKey, baseURL } = endpoint;
  if (endpoint.provider !== PROVIDER.AZURE) return new classes.OpenAI({ maxRetries: 0, apiKey, baseURL });
  if (!classes.AzureOpenAI) throw new Error('this copy of the openai SDK has no AzureOpenAI client');
  // baseURL, never endpoint: AzureOpenAI would otherwise also read OPENAI_BASE_URL and refuse both.
  return new classes.AzureOpenAI({ maxRetries: 0, apiKey, apiVersion: endpoint.apiVersion, baseURL });
}
