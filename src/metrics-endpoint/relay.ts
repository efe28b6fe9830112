import { connect, type Socket } from 'node:net';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { readLines, writeLine } from './lines';

/**
 * A member's side of the relay: connected to the serving process's socket, it answers each
 * scrape's request with its own metrics, and sends them a last time when it shuts down.
 */
export class RelayClient {
  private socket: Socket | undefined;

  constructor(
    private readonly label: string,
    private readonly collect: () => Promise<ScopeMetrics[]>,
  ) {}

  /** Resolves true once connected; false when no member of the group serves there. */
  connect(path: string, onClose: () => void): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(path);
      socket.once('error', () => resolve(false));
      socket.once('connect', () => {
        socket.unref();
        socket.on('error', () => undefined);
        this.socket = socket;
        writeLine(socket, { t: 'hello', label: this.label });
        readLines(socket, (m) => {
          if (m.t === 'collect') void this.send();
        });
        socket.once('close', () => {
          this.socket = undefined;
          onClose();
        });
        resolve(true);
      });
    });
  }

  private async send(): Promise<void> {
    try {
      const scopeMetrics = await this.collect();
      if (this.socket) writeLine(this.socket, { t: 'metrics', scopeMetrics });
    } catch {
      /* nothing to send: the server keeps what it had */
    }
  }

  /** The last metrics, then the connection ends (the server keeps them for its retention). */
  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    await this.send();
    await new Promise<void>((resolve) => socket.end(resolve));
  }
}
