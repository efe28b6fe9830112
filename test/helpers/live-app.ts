import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO } from './run-app';

const RELOAD_APP = resolve(REPO, 'test/fixtures/reload-app.cjs');

export interface AuditRecord {
  unmapped: { kind: string };
  message?: string;
  status_detail?: string;
}

/** A long-running app under the preload, driven line by line (test/fixtures/reload-app.cjs). */
export interface LiveApp {
  child: ChildProcess;
  send(command: string): void;
  /** The next answer (`OUT <json>`) that `match` accepts, in order; each is handed out once. */
  next<T = any>(match: (o: any) => boolean, timeoutMs?: number): Promise<T>;
  /** The audit events written so far, once `match` accepts one of them. */
  auditUntil(match: (events: AuditRecord[]) => boolean, timeoutMs?: number): Promise<AuditRecord[]>;
  stderr(): string;
  stop(): Promise<number | null>;
}

export async function startLiveApp(env: Record<string, string>, script = RELOAD_APP): Promise<LiveApp> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') childEnv[k] = v;
  const child = spawn(process.execPath, ['--require', resolve(REPO, 'dist/register.js'), script], { cwd: REPO, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: any[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    let nl: number;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      if (line.startsWith('OUT ')) answers.push(JSON.parse(line.slice(4)));
      if (line === 'READY') answers.push({ ready: true });
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const poll = async <T>(what: () => T | undefined, timeoutMs: number, label: string): Promise<T> => {
    for (const until = Date.now() + timeoutMs; ; ) {
      const v = what();
      if (v !== undefined) return v;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`${label} did not come within ${timeoutMs} ms; stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const app: LiveApp = {
    child,
    send: (command) => child.stdin!.write(`${command}\n`),
    next: (match, timeoutMs = 30_000) =>
      poll(
        () => {
          const i = answers.findIndex(match);
          return i >= 0 ? answers.splice(i, 1)[0] : undefined;
        },
        timeoutMs,
        'the answer',
      ),
    auditUntil: (match, timeoutMs = 15_000) =>
      poll(
        () => {
          const events = readAudit(env.LLM_GOVERNOR_AUDIT_FILE);
          return match(events) ? events : undefined;
        },
        timeoutMs,
        'the audit event',
      ),
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.stdin!.end('exit\n');
      return exited;
    },
  };
  await app.next((o) => o.ready === true);
  return app;
}

function readAudit(file: string | undefined): AuditRecord[] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

let written = 0;
/** Writes a config file atomically (a new file renamed over the old, as an editor or a ConfigMap does). */
export function writeConfigFile(file: string, config: unknown): void {
  const tmp = `${file}.${process.pid}.${++written}.tmp`;
  writeFileSync(tmp, JSON.stringify(config));
  renameSync(tmp, file);
}
