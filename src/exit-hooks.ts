/**
 * Runs `flush` when the process is about to end, without changing how it ends:
 * - normal exit (the event loop drains): flush once (bounded by the flush timeout), then exit
 *   with the app's own exit code, so that nothing of ours (an exporter still retrying) outlives it;
 * - SIGTERM / SIGINT with no listener of the app's: flush (bounded) and re-raise the signal, so
 *   the process dies of it exactly as it would have without us;
 * - SIGTERM / SIGINT that the app handles (a graceful drain): nothing is shut down, since the app
 *   goes on serving and every guard must keep working; what was recorded so far is flushed
 *   (`flushNow`), and again every `drainFlushMs` while the drain lasts, so that an app that ends
 *   its drain with `process.exit()` loses at most that much telemetry.
 *
 * `flushSync` (optional) is what must reach the disk whatever happens next: it runs on `exit`
 * (including `process.exit()` and an uncaught exception) and first thing on SIGTERM / SIGINT,
 * before any asynchronous work, so a signal that ends the process soon after loses nothing.
 */
export function onProcessEnd(flush: () => Promise<void>, flushSync?: (atExit: boolean) => void, flushNow?: () => Promise<void>, drainFlushMs = 500): void {
  let flushing: Promise<void> | undefined;
  const once = () => (flushing ??= flush().catch(() => undefined));
  const sync = (atExit: boolean) => {
    try {
      flushSync?.(atExit);
    } catch {
      /* never into the app */
    }
  };
  let draining: NodeJS.Timeout | undefined;
  const drain = () => {
    if (!flushNow || draining) return;
    const tick = () => void flushNow().catch(() => undefined);
    tick();
    draining = setInterval(tick, drainFlushMs);
    draining.unref();
  };

  process.once('beforeExit', () => {
    if (draining) clearInterval(draining);
    void once().then(() => {
      // The app's event loop had drained: whatever is still pending now is ours (an exporter
      // retrying a Collector that is not there). It must not keep the process alive past our
      // bounded flush; unless the app listens for beforeExit itself, end as the app would have.
      if (process.listenerCount('beforeExit') === 0) process.exit();
    });
  });
  if (flushSync) process.on('exit', () => sync(true));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const handler = () => {
      const appDrains = process.listenerCount(signal) > 1;
      sync(!appDrains); // without a handler of the app's, the signal is the end
      if (appDrains) {
        drain(); // keep everything running
        return;
      }
      void once().then(() => {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, handler);
  }
}
