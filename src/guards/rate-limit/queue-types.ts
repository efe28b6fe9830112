import type { Attributes } from '@opentelemetry/api';
import type { RateLimitPermit } from './permit';
import type { Limits } from './limits';
import type { SlidingWindow } from './window';

/** One call waiting in a target's queue. */
export interface Waiter {
  tokens: number;
  enqueuedAt: number;
  deadline: number;
  done: boolean;
  resolve(permit: RateLimitPermit): void;
  reject(error: unknown): void;
  deadlineTimer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One provider+model: its window in this process, its FIFO queue, a pause from its headers. */
export interface TargetState {
  key: string;
  attrs: Attributes;
  limits: Limits | undefined;
  window: SlidingWindow;
  queue: Waiter[];
  /** Index of the first queue slot not yet handled (slots before it are done). */
  first: number;
  /** Waiters not done. */
  live: number;
  pausedUntil: number;
  pausedBy: string;
  /** The head's next attempt. */
  timer?: NodeJS.Timeout;
  blockedUntil: number;
  blockedBy: string;
  /** An admission attempt is in flight at Redis. */
  asking: boolean;
}
