import type { GovernorConfig } from '../config/schema';
import { MemoryBudgetStore } from './stores/memory';
import { RedisBudgetStore } from './stores/redis';
import type { BudgetStore } from './stores/types';

/** Redis when `redis_url` is set (budgets shared by every process), else this process's memory. */
export function createBudgetStore(config: GovernorConfig, onAvailability: (available: boolean, error?: Error) => void): BudgetStore {
  if (!config.redis_url) return new MemoryBudgetStore();
  const store = new RedisBudgetStore(config.redis_url, { commandTimeoutMs: config.redis_command_timeout_ms });
  store.onAvailability(onAvailability);
  return store;
}
