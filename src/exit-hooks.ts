/**
 * Runs `flush` when the process is about to end, without changing how it ends:
 * - normal exit (the event loop drains): flush once (bounded by the flush timeout), then exit
 *   with the app's own exit code, so that nothing of ours (an exporter still retrying) outlives it;
 * - SIGTERM / SIGINT: when the app has its own listener, we only flush alongside it and the app
 *   decides; when it has none, we flush (bounded) and re-raise the signal, so the process dies
 *   of it exactly as it would have without us.
 *
 * `flushSync` (optional) is what must reach the disk whatever happens next: it runs on `exit`
 * (including `process.exit()` and an uncaught exception) and first thing on SIGTERM / SIGINT,
 * before any asynchronous work, so a signal that ends the process soon after loses nothing.
 */
export function onProcessEnd(flush: () => Promise<void>, flushSync?: () => void): void {
  let flushing: Promise<void> | undefined;
  const once = () => (flushing ??= flush().catch(() => undefined));
  const sync = () => {
    try {
      flushSync?.();
    } catch {
      /* never into the app */
    }
  };

  process.once('beforeExit', () => {
    void once().then(() => {
      // The app's event loop had drained: whatever is still pending now is ours (an exporter
      // retrying a Collector that is not there). It must not keep the process alive past our
      // bounded flush; unless the app listens for beforeExit itself, end as the app would have.
      if (process.listenerCount('beforeExit') === 0) process.exit();
    });
  });
  if (flushSync) process.on('exit', sync);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const handler = () => {
      sync();
      const appHandles = process.listenerCount(signal) > 1;
      void once().then(() => {
        if (appHandles) return;
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, handler);
  }
}
