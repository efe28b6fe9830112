import { join } from 'node:path';

/** Where this process (or thread) stands among the processes that share one scrape endpoint. */
export interface ProcessPlace {
  pid: number;
  ppid: number;
  platform: NodeJS.Platform;
  uid: number | undefined;
  tmpdir: string;
  isMainThread: boolean;
  threadId: number;
  /** `cluster.worker.id` in a node:cluster worker. */
  clusterWorkerId: number | undefined;
  env: NodeJS.ProcessEnv;
  /** What the main thread handed to its worker threads (worker_threads' environment data). */
  inherited: EndpointRole | undefined;
}

/**
 * One endpoint is shared by a group: a plain process and its worker threads; a node:cluster
 * primary, its workers and their threads; a PM2 app's instances. `label` names a member's own
 * series on the shared endpoint (the `worker` label); the member that serves has none.
 */
export interface EndpointRole {
  group: string;
  label: string | undefined;
  /** Only a main thread ever binds the port: a thread always relays to its process's endpoint. */
  mayServe: boolean;
}

const SAFE = /[^A-Za-z0-9_.-]/g;

export function endpointRole(p: ProcessPlace): EndpointRole {
  if (!p.isMainThread) {
    const base = p.inherited ?? { group: `p${p.pid}`, label: undefined };
    return { group: base.group, label: base.label === undefined ? `thread-${p.threadId}` : `${base.label}/thread-${p.threadId}`, mayServe: false };
  }
  // PM2 runs each instance as a child of its daemon (a cluster worker in cluster mode); the
  // instances of one app share the app's name, and NODE_APP_INSTANCE numbers them, steadily
  // across restarts.
  const pm2 = pm2Instance(p.env);
  if (pm2) return { group: `pm2-${pm2.name.replace(SAFE, '_')}`, label: pm2.instance, mayServe: true };
  if (p.clusterWorkerId !== undefined) return { group: `p${p.ppid}`, label: String(p.clusterWorkerId), mayServe: true };
  return { group: `p${p.pid}`, label: undefined, mayServe: true };
}

/**
 * The PM2 instance this is, if PM2 started it. In cluster mode PM2 hands its settings over in
 * one JSON variable (`pm2_env`) and copies them into the environment only after the preload ran.
 */
function pm2Instance(env: NodeJS.ProcessEnv): { name: string; instance: string } | undefined {
  let vars: Record<string, unknown> = env;
  if (env.pm_id === undefined && env.pm2_env) {
    try {
      vars = JSON.parse(env.pm2_env) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
  if (vars.pm_id === undefined || typeof vars.name !== 'string' || !vars.name) return undefined;
  return { name: vars.name, instance: String(vars.NODE_APP_INSTANCE ?? vars.pm_id) };
}

/** The group's relay socket: a Unix socket in a directory of the user's own, or a named pipe on Windows. */
export function relaySocketPath(p: Pick<ProcessPlace, 'platform' | 'uid' | 'tmpdir'>, group: string, port: number): { dir?: string; path: string } {
  if (p.platform === 'win32') return { path: `\\\\?\\pipe\\llm-governor-${group}-${port}` };
  const dir = join(p.tmpdir, `llm-governor-${p.uid ?? 'user'}`);
  return { dir, path: join(dir, `${group}-${port}.sock`) };
}
