/**
 * Embedded LLM provider simulator: a local HTTP server speaking the OpenAI wire format (also the
 * Azure OpenAI and xAI variants), with tokenizer-based usage and seeded, deterministic faults.
 *
 *   const sim = await startSimulator({ seed: 1 });
 *   const client = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'sk-test' });
 */
export type {
  FaultKind,
  FaultRule,
  Provider,
  RecordedRequest,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types';
export { startSimulator } from './server';
export { runSimulatorCli, parseSimulateArgs, SIMULATE_USAGE } from './cli';
export { parseFaultSpec } from './faults';
