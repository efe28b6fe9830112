import type { Redis } from 'ioredis';

/**
 * The discipline every Redis client of ours keeps (budgets, rate-limit windows, cache): the
 * socket holds the process alive only while a command is in flight, and a command made while the
 * very first connection is still being set up waits for that attempt, briefly.
 */

/** Refs (hold) or unrefs the Redis socket, so an idle connection never keeps the app running. */
export function holdEventLoop(redis: Redis, hold: boolean): void {
  const stream = (redis as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
  if (hold) stream?.ref?.();
  else stream?.unref?.();
}

/** Resolves when the connection attempt in progress ends (ready, error or close), or after `timeoutMs`. */
export function connectionAttemptSettled(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      redis.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.on('ready', done);
    redis.on('error', done);
    redis.on('close', done);
  });
}
