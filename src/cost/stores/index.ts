export type { BudgetKey, BudgetListEntry, BudgetState, BudgetStore, ReserveResult } from './types';
export { BudgetStoreUnavailableError } from './types';
export { CALENDAR_GRACE_MS, SETTLED_RETENTION_MS } from './common';
export { MemoryBudgetStore } from './memory';
export { RedisBudgetStore } from './redis';
export type { RedisBudgetStoreOptions } from './redis';
