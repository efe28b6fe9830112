import type { Attributes } from '@opentelemetry/api';
import { ATTR } from '../../semconv';
import type { RateLimitPermit } from './permit';
import type { Limits, RateLimitTarget } from './limits';
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
  target: RateLimitTarget;
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

/** A target's state when it is first seen: an empty window and queue, no pause. */
export function newTargetState(target: RateLimitTarget, key: string, limits: Limits | undefined, window: SlidingWindow): TargetState {
  return {
    key,
    target,
    attrs: { [ATTR.PROVIDER_NAME]: target.provider, [ATTR.REQUEST_MODEL]: target.model },
    limits,
    window,
    queue: [],
    first: 0,
    live: 0,
    pausedUntil: 0,
    pausedBy: `${key}|provider-requests`,
    blockedUntil: 0,
    blockedBy: `${key}|${limits?.rpm !== undefined ? 'rpm' : 'tpm'}`,
    asking: false,
  };
}
