import { context, diag, type Context } from '@opentelemetry/api';
import type { BackupMaker } from '../guards/backup-env';
import type { ClientClasses, Target } from '../guards/fallback';
import type { Body } from '../operations';
import { TargetUnusable, type BuiltAttempt } from '../pipeline/send-layer';
import type { CallAdapter, SendRequest } from './call-adapter';
import { sdkBackups } from './sdk-backups';
import { backupOptions, buildAttempt, sendAttempt, type BuiltRequest } from './sdk-request';

/**
 * The SDK adapter's half of the send path: every try of a call, built as the openai SDK builds
 * one. The primary's first try is the SDK's own request; every other (a retry: new credentials,
 * the retry count; a backup's) is built by the SDK's own steps (`sdk-request.ts`) from the SDK's
 * options object of the call, or a fresh one for a backup.
 */
export class SdkAttempts implements CallAdapter {
  /** The SDK's request of this call, as its transport hook handed it over. */
  request?: SendRequest;
  readonly clientRetries = false;
  /** The SDK's own options object of this call (its first buildRequest's). */
  private options?: Record<string, unknown>;
  /** A backup's request options, kept for all its tries (made only when a call falls back). */
  private backupRequests?: Map<Target, Record<string, unknown>>;
  /** Backup clients are built by the same copy of the SDK as the app's. */
  readonly backupMaker?: BackupMaker;

  constructor(
    readonly client: unknown,
    readonly path: string,
    classes?: ClientClasses,
  ) {
    this.backupMaker = classes && sdkBackups(classes);
  }

  /** The moderation request is a call of its own (a child span), through the same client. */
  moderations(model: string, input: unknown, ctx: Context): Promise<unknown> {
    const client = this.client as { moderations: { create(o: object): Promise<unknown> } };
    return context.with(ctx, () => client.moderations.create({ model, input }));
  }

  /** The SDK's own options object, from its first buildRequest on this call's client. */
  capture(client: unknown, options: Record<string, unknown>): void {
    if (!this.options && client === this.client) this.options = options;
  }

  /** A backup's request options (the body with the backup's model), kept for all its tries. False: it cannot be made. */
  prepareBackup(target: Target, body: () => Body, signal: AbortSignal | null | undefined): boolean {
    try {
      (this.backupRequests ??= new Map()).set(target, backupOptions(this.path, body(), signal));
      return true;
    } catch (err) {
      diag.warn(`llm-governor: fallback to ${target.provider.name} ${target.model} skipped: its request could not be built (${(err as Error)?.message})`);
      return false;
    }
  }

  async build(target: Target, retry: number): Promise<BuiltAttempt> {
    const req = this.request!;
    const options = target.primary ? this.options : this.backupRequests?.get(target);
    if (target.primary && (retry === 0 || !options)) {
      return { url: req.url, headers: req.init.headers, ms: req.ms, send: (controller) => req.fetch(target.client, req.url, req.init, req.ms, controller) };
    }
    let built: BuiltRequest;
    try {
      built = await buildAttempt(target.client, options!, retry);
    } catch (err) {
      if (target.primary) throw err; // as the SDK's own loop would: its credentials failed
      diag.warn(`llm-governor: fallback to ${target.provider.name} ${target.model} skipped: its request could not be built (${(err as Error)?.message})`);
      throw new TargetUnusable(String(err));
    }
    return { url: built.url, headers: built.init.headers, ms: req.ms, send: (controller) => sendAttempt(target.client, built, req.ms, controller, req.fetch) };
  }
}
