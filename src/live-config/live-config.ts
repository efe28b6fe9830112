import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { diag } from '@opentelemetry/api';
import { configRejectedFacts } from '../audit';
import type { AuditRecorder } from '../audit/trail';
import { loadConfig, type ConfigProblem, type FleetLayer, type LoadedConfig } from '../config/load';
import type { GovernorConfig } from '../config/schema';
import { configInfoOf, type ConfigInfo } from './config-info';
import { FleetConfigStore } from './fleet-store';
import { planReload } from './reload-plan';
import { watchTriggers, type ReloadTrigger } from './triggers';

export interface LiveConfigOptions {
  /** The config in force at start. */
  loaded: LoadedConfig;
  env?: NodeJS.ProcessEnv;
  audit: AuditRecorder;
  /** Puts a config in force for the calls that start from now on. May throw: the old one then stays. */
  apply: (config: GovernorConfig) => void;
  /** The config in force changed (for `llm_governor_config_info`). */
  onInfo: (info: ConfigInfo) => void;
}

/** What a reload did. */
export interface ReloadOutcome {
  applied: boolean;
  trigger: ReloadTrigger;
  /** The settings whose value changed. */
  changed: string[];
  /** Why it was rejected: each invalid value by its full path. */
  problems: ConfigProblem[];
  /** Restart-only settings the new config changes, kept until a restart. */
  keptUntilRestart: string[];
  info: ConfigInfo;
}

/**
 * The config in force, and how it changes while the process runs: SIGHUP, the config file, a
 * fleet push through Redis, or `reload()`. A reload reads every layer again (file < environment
 * < fleet), rejects the result whole if it brings an invalid value, and otherwise puts it in
 * force for the calls that start after it. Reloads run one at a time, in the order asked.
 */
export class LiveConfig {
  private loaded: LoadedConfig;
  private fleet?: FleetLayer;
  /** The fleet version last considered (applied or rejected): a check of the same one is a no-op. */
  private fleetSeen?: number | string;
  private fileDigest?: string;
  private chain: Promise<unknown> = Promise.resolve();
  private store?: FleetConfigStore;
  private stopTriggers?: () => void;
  private checkTimer?: NodeJS.Timeout;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: LiveConfigOptions) {
    this.loaded = opts.loaded;
    this.env = opts.env ?? process.env;
    this.fileDigest = digestOf(this.loaded.file);
  }

  get info(): ConfigInfo {
    return configInfoOf(this.loaded);
  }

  /** Starts the triggers and, with Redis, follows the fleet config (read once now). */
  start(): void {
    const c = this.loaded.config;
    this.stopTriggers = watchTriggers({
      file: this.loaded.file,
      watchFile: c.config_watch,
      onTrigger: (t) => void this.reload(t),
      say: (m) => diag.warn(`llm-governor: ${m}`),
    });
    if (!c.redis_url || !c.fleet_config) return;
    const store = (this.store = new FleetConfigStore(c.redis_url, { commandTimeoutMs: c.redis_command_timeout_ms }));
    const check = (trigger: ReloadTrigger) => void this.checkFleet(trigger);
    store
      .follow(() => check('fleet'))
      .then(
        () => check('start'),
        () => check('start'),
      );
    this.checkTimer = setInterval(() => check('fleet'), c.fleet_config_check_seconds * 1000);
    this.checkTimer.unref();
  }

  /** Reads every layer again and puts the result in force, unless it is invalid. */
  reload(trigger: ReloadTrigger, fleet: FleetLayer | null | undefined = this.fleet): Promise<ReloadOutcome> {
    const next = this.chain.then(() => this.reloadNow(trigger, fleet ?? undefined));
    this.chain = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopTriggers?.();
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.store?.close();
  }

  private reloadNow(trigger: ReloadTrigger, fleet: FleetLayer | undefined): ReloadOutcome {
    const outcome = (applied: boolean, extra: Partial<ReloadOutcome> = {}) => this.outcome(trigger, applied, extra);
    if (trigger === 'file') {
      // An event in the file's folder that left the file as it was is no reload.
      const digest = digestOf(this.loaded.file);
      if (digest === this.fileDigest) return outcome(false);
      this.fileDigest = digest;
    }
    const next = loadConfig(this.env, fleet);
    const plan = planReload(this.loaded, next);
    const source = fleet && fleet !== this.fleet ? `fleet config version ${fleet.version} (${fleet.origin})` : `the reload (${trigger})`;
    if (!plan.accepted) return this.rejected(trigger, plan.newProblems, source);
    try {
      if (plan.changed.length) this.opts.apply(plan.config);
    } catch (err) {
      this.safely(() => this.opts.apply(this.loaded.config));
      return this.rejected(trigger, [{ source, message: `could not be applied (${(err as Error)?.message ?? err})` }], source);
    }
    this.loaded = { ...next, config: plan.config };
    this.fleet = fleet;
    const info = this.info;
    this.safely(() => this.opts.onInfo(info));
    for (const key of plan.keptUntilRestart) diag.warn(`llm-governor: ${source} changes ${key}, which takes effect only at a restart; the value in force stays until then`);
    const fleetText = fleet ? `fleet version ${fleet.version} pushed by ${fleet.origin}` : 'no fleet config';
    this.opts.audit.record('config_loaded', {
      detail: `version ${info.version} (${info.origin}, sha256 ${info.sha256}); ${plan.changed.length ? `changed: ${plan.changed.join(', ')}` : 'nothing changed'}`,
      message: `configuration reloaded (${trigger}): ${fleetText}${plan.keptUntilRestart.length ? `; kept until a restart: ${plan.keptUntilRestart.join(', ')}` : ''}`,
    });
    return outcome(true, { changed: plan.changed, keptUntilRestart: plan.keptUntilRestart, info });
  }

  private outcome(trigger: ReloadTrigger, applied: boolean, extra: Partial<ReloadOutcome> = {}): ReloadOutcome {
    return { applied, trigger, changed: [], problems: [], keptUntilRestart: [], info: this.info, ...extra };
  }

  private rejected(trigger: ReloadTrigger, problems: ConfigProblem[], source: string): ReloadOutcome {
    this.opts.audit.record('config_rejected', configRejectedFacts(problems, `${source} is not applied, the configuration in force stays`));
    diag.warn(`llm-governor: ${source} rejected, the configuration in force stays:\n${problems.map((p) => `  - ${p.source}: ${p.message}`).join('\n')}`);
    return this.outcome(trigger, false, { problems });
  }

  /** Reads the fleet document; a version not yet considered is reloaded with (or rejected). */
  private async checkFleet(trigger: ReloadTrigger): Promise<void> {
    let doc: Awaited<ReturnType<FleetConfigStore['read']>>;
    try {
      doc = await this.store!.read();
    } catch {
      return; // Redis away: the config in force stays; the next check or notice tries again
    }
    if (doc === undefined) {
      if (this.fleet) await this.reload(trigger, null); // the fleet config was withdrawn
      this.fleetSeen = undefined;
      return;
    }
    if ('error' in doc) {
      if (this.fleetSeen === doc.error) return;
      this.fleetSeen = doc.error;
      await this.chain;
      this.rejected(trigger, [{ source: 'fleet config', message: doc.error }], 'the fleet config');
      return;
    }
    if (this.fleetSeen === doc.version) return;
    this.fleetSeen = doc.version;
    await this.reload(trigger, { settings: doc.settings, version: doc.version, origin: `${doc.origin} at ${doc.pushedAt}` });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      /* never into the app */
    }
  }
}

function digestOf(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}
