import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { processAuditTrail, type AuditTrail } from '../audit';
import { loadConfig } from '../config/load';
import type { GovernorConfig } from '../config/schema';
import { Governor } from '../cost/governor';
import { closeGuards, createGuards, type Guards } from '../guards';
import { configInfoChanged, configInfoOf, observeConfigInfo, type ConfigInfo } from '../live-config/config-info';
import { INSTRUMENTATION_NAME } from '../semconv';
import type { Call, Runtime } from './call';
import { GenAiMetrics } from './metrics';
import { patchClientClass, unpatchClientClass } from './patch';
import { isTestedVersion } from './versions';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION: string = require('../../package.json').version;

export interface LlmGovernorInstrumentationConfig extends InstrumentationConfig {
  /** Settings to use instead of reading the environment and `LLM_GOVERNOR_CONFIG`. */
  governor?: GovernorConfig;
  /** The audit trail to write to (the preload passes the process's); default: the process's own. */
  audit?: AuditTrail;
}

/**
 * The OpenTelemetry instrumentation for the `openai` SDK, for apps that run their own
 * `NodeSDK({ instrumentations: [new LlmGovernorInstrumentation()] })`. The preload uses it too.
 */
export class LlmGovernorInstrumentation extends InstrumentationBase<LlmGovernorInstrumentationConfig> {
  private runtime?: Runtime;
  private genAiMetrics?: GenAiMetrics;
  private costGovernor?: Governor;
  private guards?: Guards;
  private readonly open = new Set<Call>();
  private warnedVersions = new Set<string>();
  private governor: GovernorConfig;
  /** The audit trail: one OCSF event per call and per decision. */
  readonly audit: AuditTrail;

  constructor(config: LlmGovernorInstrumentationConfig = {}) {
    super(INSTRUMENTATION_NAME, PACKAGE_VERSION, config);
    const loaded = config.governor ? { config: config.governor } : loadConfig();
    this.governor = loaded.config;
    this.configInfo = configInfoOf(loaded);
    this.audit = config.audit ?? processAuditTrail(loaded, PACKAGE_VERSION);
    this.audit.setMeter(this.meter);
  }

  protected init() {
    return new InstrumentationNodeModuleDefinition(
      'openai',
      ['*'],
      (exports: any, version?: string) => {
        this.checkVersion(version);
        if (!patchClientClass(exports, this.runtimeGetter, () => this.governor.provider_overrides)) {
          this._diag.warn(`openai ${version ?? '(unknown version)'} has no client class with post(): not instrumented`);
        }
        return exports;
      },
      (exports: any) => unpatchClientClass(exports),
    );
  }

  /** Patches an `openai` module object the app loaded before this instrumentation was enabled. */
  patchModule(exports: unknown, version?: string): boolean {
    this.checkVersion(version);
    return patchClientClass(exports, this.runtimeGetter, () => this.governor.provider_overrides);
  }

  protected override _updateMetricInstruments(): void {
    this.genAiMetrics = new GenAiMetrics(this.meter, this.governor?.wire_label_limit);
    observeConfigInfo(this.meter, () => this.configInfo);
    // Called by the base constructor, before this class's fields exist.
    this.audit?.setMeter(this.meter);
    this.runtime = undefined;
  }

  /** Ends every call still open (process exit): spans are never left dangling, reservations settled. */
  endOpenCalls(): void {
    for (const call of [...this.open]) call.abandon('incomplete');
  }

  /** Process end: settle open calls, close the budget store and the guards' connections, flush the audit trail. */
  async shutdown(): Promise<void> {
    this.endOpenCalls();
    await Promise.allSettled([this.costGovernor?.shutdown(), closeGuards(this.guards)]);
    await this.audit.flush();
  }

  /** Budget settlements on their way land, then the audit trail is written out; nothing is closed. */
  async flush(): Promise<void> {
    await this.costGovernor?.flush();
    await this.audit.flush();
  }

  private configInfo?: ConfigInfo;

  /** What `llm_governor_config_info` reports: the config in force. */
  setConfigInfo(info: ConfigInfo): void {
    configInfoChanged(this.configInfo, info);
    this.configInfo = info;
  }

  /** The settings in force. */
  get governorConfig(): GovernorConfig {
    return this.governor;
  }

  /**
   * A reload: calls that start from now on run under `config`. Calls in flight keep the runtime
   * they started with: their reservations settle on the budgets they were made on (the spend of a
   * budget whose name and window stay carries over), their breaker tickets go to their breakers.
   */
  applyConfig(config: GovernorConfig): void {
    this.governor = config;
    if (this.costGovernor) this.costGovernor = new Governor(config, this.meter, Date.now, undefined, this.audit, this.genAiMetrics?.labels, this.costGovernor);
    this.guards?.reconfigure(config);
    this.runtime = undefined;
  }

  /** The cost and budget governor (created on first use). */
  get governorInstance(): Governor | undefined {
    return this.costGovernor;
  }

  /** The runtime for `wrap(client)` and the patched classes; undefined while disabled. */
  readonly runtimeGetter = (): Runtime | undefined => this.getRuntime();

  private getRuntime(): Runtime | undefined {
    if (!this.isEnabled()) return undefined;
    if (!this.runtime) {
      this.genAiMetrics ??= new GenAiMetrics(this.meter, this.governor?.wire_label_limit);
      const self = this;
      const metrics = this.genAiMetrics;
      // Budgets live as long as the process: created once, on first use, with the meter in place.
      this.costGovernor ??= new Governor(this.governor, this.meter, Date.now, undefined, this.audit, metrics.labels);
      const governor = this.costGovernor;
      this.guards ??= createGuards(this.governor, this.meter, this.audit);
      this.runtime = {
        governor,
        guards: this.guards,
        config: this.governor,
        // The tracer provider can be set after start-up (setTracerProvider): always ask.
        get tracer() {
          return self.tracer;
        },
        metrics,
        audit: this.audit,
        open: this.open,
      };
    }
    return this.runtime;
  }

  private checkVersion(version: string | undefined): void {
    const v = version ?? 'unknown';
    if (isTestedVersion(version) || this.warnedVersions.has(v)) return;
    this.warnedVersions.add(v);
    this._diag.warn(`openai ${v} is outside the tested range (>=4.20 <8): instrumenting it anyway; please report problems`);
  }
}
