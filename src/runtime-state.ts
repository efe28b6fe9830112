import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { LoadedConfig } from './config/load';
import type { LlmGovernorInstrumentation } from './instrumentation/instrumentation';
import type { LiveConfig } from './live-config/live-config';

/** The process-wide state of the preload, shared between its CJS and ESM entry points. */
export interface GovernorState {
  loaded: LoadedConfig;
  instrumentation?: LlmGovernorInstrumentation;
  sdk?: NodeSDK;
  /** The config in force and its reloads (SIGHUP, the file, the fleet, `reload()`). */
  live?: LiveConfig;
}

const KEY = Symbol.for('llm-governor.state');

export function getState(): GovernorState | undefined {
  return (globalThis as Record<symbol, GovernorState | undefined>)[KEY];
}

export function setState(state: GovernorState): void {
  (globalThis as Record<symbol, GovernorState | undefined>)[KEY] = state;
}
