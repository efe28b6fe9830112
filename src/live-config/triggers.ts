import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';

export type ReloadTrigger = 'sighup' | 'file' | 'api' | 'fleet' | 'start';

/** Threads have no signals: the main thread passes a SIGHUP on to them on this channel. */
const THREADS_CHANNEL = 'llm-governor:reload';
/** A burst of file events (an editor's save, a ConfigMap's symlink swap) is one reload. */
const DEBOUNCE_MS = 250;

export interface TriggerOptions {
  /** The config file to watch, if any. */
  file?: string;
  watchFile: boolean;
  onTrigger: (trigger: ReloadTrigger) => void;
  /** Says once what the app's own SIGHUP handler means for us. */
  say: (message: string) => void;
}

/**
 * What makes a process reload: SIGHUP (unless the app handles SIGHUP itself: then ours steps
 * aside, and says so once), a change of the config file, and in a worker thread the main
 * thread's SIGHUP. Nothing here holds the process alive. Returns the way to stop them all.
 */
export function watchTriggers(opts: TriggerOptions): () => void {
  const stops: (() => void)[] = [];
  if (isMainThread) stops.push(onSighup(opts));
  else stops.push(onMainThreadSighup(opts.onTrigger));
  if (opts.file && opts.watchFile) stops.push(onFileChange(opts.file, () => opts.onTrigger('file')));
  return () => {
    for (const stop of stops) stop();
  };
}

function onSighup(opts: TriggerOptions): () => void {
  let threads: BroadcastChannel | undefined;
  const handler = () => {
    opts.onTrigger('sighup');
    try {
      (threads ??= unrefd(new BroadcastChannel(THREADS_CHANNEL))).postMessage('sighup');
    } catch {
      /* no threads to tell */
    }
  };
  const stepAside = () => {
    process.off('SIGHUP', handler);
    process.off('newListener', onNewListener);
    opts.say('the app handles SIGHUP itself, so llm-governor does not reload on SIGHUP; it reloads when LLM_GOVERNOR_CONFIG changes, on a fleet push, and on reload() from the library');
  };
  const appListens = () => process.listeners('SIGHUP').some((l) => l !== handler);
  // The app's handler is added after ours (the preload runs first): step aside when it comes.
  const onNewListener = (event: string | symbol) => {
    if (event === 'SIGHUP') process.nextTick(() => appListens() && process.listeners('SIGHUP').includes(handler) && stepAside());
  };
  if (appListens()) {
    stepAside();
    return () => undefined;
  }
  process.on('SIGHUP', handler);
  process.on('newListener', onNewListener);
  return () => {
    process.off('SIGHUP', handler);
    process.off('newListener', onNewListener);
    threads?.close();
  };
}

function onMainThreadSighup(onTrigger: TriggerOptions['onTrigger']): () => void {
  const channel = unrefd(new BroadcastChannel(THREADS_CHANNEL));
  channel.onmessage = () => onTrigger('sighup');
  return () => channel.close();
}

/**
 * The file's folder is watched, not the file: an editor or a ConfigMap replaces the file, which
 * ends a watch on the file itself. Where the platform cannot watch, the file is polled.
 */
function onFileChange(file: string, changed: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const debounced = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(changed, DEBOUNCE_MS);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    // Only the file itself, or a Kubernetes ConfigMap's swap of its `..data` link: other files
    // in the folder (a log, an audit file) must not keep putting the reload off.
    const name = basename(file);
    watcher = watch(dirname(file), { persistent: false }, (_event, changedName) => {
      if (changedName == null || changedName === name || String(changedName).startsWith('..')) debounced();
    });
    watcher.on('error', () => undefined);
  } catch {
    watchFile(file, { persistent: false, interval: 2_000 }, debounced);
  }
  return () => {
    if (timer) clearTimeout(timer);
    if (watcher) watcher.close();
    else unwatchFile(file, debounced);
  };
}

function unrefd(channel: BroadcastChannel): BroadcastChannel {
  (channel as unknown as { unref?: () => void }).unref?.();
  return channel;
}
