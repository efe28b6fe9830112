import { mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { readLines, writeLine } from './lines';
import type { RelayedMetrics } from './merge';

interface Member {
  label: string;
  socket: Socket | undefined;
  latest: ScopeMetrics[] | undefined;
  /** When its connection closed: its last metrics are served until the retention ends. */
  leftAt: number | undefined;
  answered: Set<() => void>;
}

/** A relay socket must live in a directory only its user can enter. */
function ownPrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = process.getuid?.();
  if ((uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) throw new Error(`${dir} is not private to this user`);
}

/**
 * The serving process's side of the relay: the other members of its group (cluster workers, PM2
 * instances, worker threads) connect to its local socket; at each scrape it asks each for its
 * metrics and serves the latest it has of every member, including one that left, for a while.
 */
export class RelayHub {
  private readonly members = new Map<string, Member>();
  private server: Server | undefined;
  private path: string | undefined;

  constructor(
    private readonly retentionMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async open(socket: { dir?: string; path: string }): Promise<void> {
    if (socket.dir) ownPrivateDir(socket.dir);
    // The port is ours, so a socket file left here belongs to a member that served before and died.
    if (socket.dir) {
      try {
        unlinkSync(socket.path);
      } catch {
        /* none */
      }
    }
    const server = createServer((s) => this.admit(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket.path, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        server.unref();
        this.server = server;
        this.path = socket.dir ? socket.path : undefined;
        resolve();
      });
    });
  }

  private admit(socket: Socket): void {
    socket.unref();
    socket.on('error', () => undefined);
    let member: Member | undefined;
    readLines(socket, (m) => {
      if (m.t === 'hello' && typeof m.label === 'string' && !member) {
        this.forgetDeparted();
        member = { label: m.label, socket, latest: undefined, leftAt: undefined, answered: new Set() };
        this.members.get(m.label)?.socket?.destroy();
        this.members.set(m.label, member);
      } else if (m.t === 'metrics' && member && Array.isArray(m.scopeMetrics)) {
        member.latest = m.scopeMetrics as ScopeMetrics[];
        for (const done of member.answered) done();
      }
    });
    socket.on('close', () => {
      if (!member || this.members.get(member.label) !== member) return;
      member.socket = undefined;
      member.leftAt = this.now();
      for (const done of member.answered) done();
    });
  }

  /** Asks every connected member for its metrics, waits up to `timeoutMs`, and returns the latest of each. */
  async gather(timeoutMs: number): Promise<RelayedMetrics[]> {
    this.forgetDeparted();
    await Promise.all([...this.members.values()].filter((m) => m.socket).map((m) => this.ask(m, timeoutMs)));
    const out: RelayedMetrics[] = [];
    for (const m of this.members.values()) if (m.latest) out.push({ label: m.label, scopeMetrics: m.latest });
    return out;
  }

  /** Members gone longer than the retention are dropped (at each scrape and each arrival: never scraped, still bounded). */
  private forgetDeparted(): void {
    for (const [label, m] of this.members) if (m.leftAt !== undefined && this.now() - m.leftAt > this.retentionMs) this.members.delete(label);
  }

  private ask(member: Member, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        member.answered.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      member.answered.add(done);
      writeLine(member.socket!, { t: 'collect' });
    });
  }

  close(): void {
    this.server?.close();
    for (const m of this.members.values()) m.socket?.destroy();
    this.members.clear();
    if (this.path) {
      try {
        unlinkSync(this.path);
      } catch {
        /* gone */
      }
    }
  }
}
