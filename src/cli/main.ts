#!/usr/bin/env node
/** The `llm-governor` command. */
import { checkConfig } from './check-config';

const USAGE = `usage: llm-governor <command>

commands:
  simulate [options]   run the embedded provider simulator (OpenAI, Azure OpenAI and xAI wire formats)
                       --port N  --host H  --seed N  --latency MS  --chunk-delay MS  --fault KIND[:P]
  check-config         validate LLM_GOVERNOR_* variables and LLM_GOVERNOR_CONFIG; print the effective settings
  budgets [--metrics-url URL]
                       every budget's limit, spent, reserved and reset time: from Redis when
                       LLM_GOVERNOR_REDIS_URL is set, else from a running app's /metrics
  config push FILE | show | clear [--redis-url URL]
                       the fleet config in Redis: validate FILE and publish it to every process,
                       show the version in force, or withdraw it
  help                 this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'simulate': {
      const { runSimulatorCli } = await import('../simulator/index.js');
      await runSimulatorCli(rest);
      return 0;
    }
    case 'check-config':
      return checkConfig();
    case 'budgets': {
      const { budgetsCommand } = await import('./budgets.js');
      return budgetsCommand(rest);
    }
    case 'config': {
      const { configCommand } = await import('./config-push.js');
      return configCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`llm-governor: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`llm-governor: ${(err as Error)?.message ?? err}\n`);
    process.exitCode = 1;
  },
);
