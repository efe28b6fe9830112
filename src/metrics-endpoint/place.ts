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
  inherited: { group: string; label: string | undefined }[] | undefined;
}

/** A group's relay, and the label this member's series carry there. */
export interface RelayTarget {
  group: string;
  label: string;
}

/**
 * One endpoint is shared by a group: a plain process, its worker threads and the processes it
 * starts; a node:cluster primary, its workers and their threads; a PM2 app's instances.
 * `serves` names the group whose endpoint this member serves when it binds the port first (a
 * thread never binds it); `label` is the `worker` label of its own series there (none for a
 * process that serves its own group). `relaysTo` lists, in order, the groups it relays to
 * when it does not serve.
 */
export interface EndpointRole {
  serves: string | undefined;
  label: string | undefined;
  relaysTo: RelayTarget[];
}

const SAFE = /[^A-Za-z0-9_.-]/g;

export function endpointRole(p: ProcessPlace): EndpointRole {
  if (!p.isMainThread) {
    const targets = p.inherited ?? [{ group: `p${p.pid}`, label: undefined }];
    const thread = `thread-${p.threadId}`;
    return { serves: undefined, label: undefined, relaysTo: targets.map((t) => ({ group: t.group, label: t.label === undefined ? thread : `${t.label}/${thread}` })) };
  }
  // PM2 runs each instance as a child of its daemon (a cluster worker in cluster mode); the
  // instances of one app share the app's name, and NODE_APP_INSTANCE numbers them, steadily
  // across restarts.
  const pm2 = pm2Instance(p.env);
  if (pm2) return member(`pm2-${pm2.name.replace(SAFE, '_')}`, pm2.instance);
  if (p.clusterWorkerId !== undefined) return member(`p${p.ppid}`, String(p.clusterWorkerId));
  // A process on its own; when it cannot serve, it may be the child of one that does (a dev
  // server's worker process, a supervisor's child), started under the same preload.
  return { serves: `p${p.pid}`, label: undefined, relaysTo: [{ group: `p${p.ppid}`, label: `pid-${p.pid}` }] };
}

const member = (group: string, label: string): EndpointRole => ({ serves: group, label, relaysTo: [{ group, label }] });

/** What a main thread hands to the worker threads it starts: where they relay to, and under which label. */
export function threadTargets(role: EndpointRole): { group: string; label: string | undefined }[] {
  return [...(role.serves ? [{ group: role.serves, label: role.label }] : []), ...role.relaysTo.filter((t) => t.group !== role.serves)];
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
