import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { LoadedConfig } from './config/load';
import type { LlmGovernorInstrumentation } from './instrumentation/instrumentation';

/** The process-wide state of the preload, shared between its CJS and ESM entry points. */
export interface GovernorState {
  loaded: LoadedConfig;
  instrumentation?: LlmGovernorInstrumentation;
  sdk?: NodeSDK;
}

const KEY = Symbol.for('llm-governor.state');

export function getState(): GovernorState | undefined {
  return (globalThis as Record<symbol, GovernorState | undefined>)[KEY];
}

export function setState(state: GovernorState): void {
  (globalThis as Record<symbol, GovernorState | undefined>)[KEY] = state;
}
