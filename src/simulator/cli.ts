/** `llm-governor simulate …`: runs the simulator until SIGINT/SIGTERM. */
import { startSimulator } from './server';
import { parseFaultSpec } from './faults';
import type { SimulatorOptions } from './types';

export const SIMULATE_USAGE = `Usage: llm-governor simulate [options]

Runs a local OpenAI / Azure OpenAI / xAI compatible API simulator.

Options:
  --host <host>          interface to listen on (default 127.0.0.1)
  --port <port>          port (default 0: any free port)
  --seed <n>             seed for all randomness (default 42)
  --latency <ms>         base response delay, ±20% jitter (default 0)
  --chunk-delay <ms>     delay between stream chunks (default 0)
  --fault <spec>         add a fault rule, repeatable: kind[:probability][:key=value,...]
                         kinds: 400 429 500 503 hang reset truncate malformed
                         keys: count, after, path, model, provider, retry-after
                         e.g. --fault 429:0.1 --fault 500:0.05 --fault hang:1:count=1,path=embeddings
  --no-auth              accept requests without an API key
  -h, --help             show this help
`;

export interface CliIo {
  out?: (line: string) => void;
  /** Stops the simulator like a signal would (for embedding and tests). */
  signal?: AbortSignal;
}

function numberArg(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n)) throw new Error(`${flag} expects a number`);
  return n;
}

/** Parses `simulate` arguments; returns undefined when help was asked for. */
export function parseSimulateArgs(argv: string[]): SimulatorOptions | undefined {
  const args = argv[0] === 'simulate' ? argv.slice(1) : argv;
  const options: SimulatorOptions = { faults: [] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.startsWith('--') && args[i]!.includes('=') ? (args[i]!.split(/=(.*)/s, 2) as [string, string]) : [args[i]!, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return undefined;
      case '--host':
        options.host = value();
        break;
      case '--port':
        options.port = numberArg(flag, value());
        break;
      case '--seed':
        options.seed = numberArg(flag, value());
        break;
      case '--latency':
        options.latencyMs = numberArg(flag, value());
        break;
      case '--chunk-delay':
        options.chunkDelayMs = numberArg(flag, value());
        break;
      case '--fault':
        options.faults!.push(parseFaultSpec(value() ?? ''));
        break;
      case '--no-auth':
        options.requireAuth = false;
        break;
      default:
        throw new Error(`unknown option "${flag}"\n\n${SIMULATE_USAGE}`);
    }
  }
  return options;
}

export async function runSimulatorCli(argv: string[], io: CliIo = {}): Promise<void> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const options = parseSimulateArgs(argv);
  if (!options) {
    out(SIMULATE_USAGE);
    return;
  }
  const sim = await startSimulator(options);
  const faults = options.faults!.map((f) => `${f.kind}${f.probability !== undefined ? ` p=${f.probability}` : ''}`);
  out(`llm-governor simulator listening on ${sim.url} (seed ${options.seed ?? 42})`);
  out(`  OpenAI  baseURL:  ${sim.openaiBaseURL}`);
  out(`  Azure   endpoint: ${sim.azureEndpoint}`);
  out(`  xAI     baseURL:  ${sim.xaiBaseURL}`);
  if (faults.length > 0) out(`  faults: ${faults.join(', ')}`);
  out('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await sim.close();
  const stats = sim.stats();
  out(`simulator stopped after ${stats.total} request${stats.total === 1 ? '' : 's'}`);
}
