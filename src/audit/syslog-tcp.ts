import * as net from 'node:net';
import type { SyslogTransport, TransportLink } from './syslog-transport';

/** Bytes handed to one `socket.write` at most. */
const BATCH_BYTES = 64 * 1024;
const SOCKET_END_WAIT_MS = 500;
const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 30_000;

/**
 * Syslog over TCP: one persistent connection, opened on the first write. Each message is framed by
 * octet counting (`LENGTH SP MESSAGE`, RFC 6587 §3.4.1), so no character in the JSON can split a
 * message. Messages go out in batches (up to 64 KiB per socket write), stopping while the socket
 * reports backpressure, until `'drain'`. A message counts as sent once its write callback reported
 * success; when the connection breaks, the queue is rewound (replay window included) and the sink
 * reopens it after its back-off.
 */
export class TcpTransport implements SyslogTransport {
  /** Bumped whenever the current socket is given up: callbacks of older ones are ignored. */
  private gen = 0;
  private socket: net.Socket | undefined;
  private connected = false;
  private blocked = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly link: TransportLink,
  ) {}

  frame(message: string): Buffer {
    return Buffer.from(`${Buffer.byteLength(message, 'utf8')} ${message}`, 'utf8');
  }

  pump(): void {
    const queue = this.link.queue;
    if (!queue.hasUnsent) return;
    if (!this.socket) {
      if (!this.link.backingOff()) this.connect();
      return;
    }
    if (!this.connected) return;
    const socket = this.socket;
    const gen = this.gen;
    while (queue.hasUnsent && !this.blocked && this.socket === socket) {
      const parts: Buffer[] = [];
      let bytes = 0;
      while (queue.hasUnsent && bytes < BATCH_BYTES) {
        const data = queue.take();
        parts.push(data);
        bytes += data.length;
      }
      const last = queue.nextSeq - 1;
      const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
      let ok: boolean;
      try {
        ok = socket.write(chunk, (err) => {
          if (err || gen !== this.gen) return; // the 'close' handler requeues it
          this.link.sent(last);
        });
      } catch (e) {
        socket.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (!ok) this.blocked = true;
    }
  }

  close(): Promise<void> {
    this.gen++;
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    return socket ? endSocket(socket) : Promise.resolve();
  }

  private connect(): void {
    const gen = ++this.gen;
    let socket: net.Socket;
    try {
      socket = net.connect({ host: this.host, port: this.port });
    } catch (e) {
      this.link.failed(e);
      return;
    }
    this.socket = socket;
    this.connected = false;
    this.blocked = false;
    socket.unref();
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy(new Error(`connecting to the syslog server ${this.where()} timed out after ${CONNECT_TIMEOUT_MS} ms`));
    });
    socket.on('connect', () => {
      if (gen !== this.gen) return;
      socket.setTimeout(0);
      socket.setKeepAlive(true, KEEPALIVE_MS);
      this.connected = true;
      this.link.pump();
    });
    // Read (and discard) whatever the server sends, so that its closing the connection is noticed.
    socket.on('data', () => undefined);
    socket.on('drain', () => {
      if (gen !== this.gen) return;
      this.blocked = false;
      this.link.pump();
    });
    socket.on('error', (e) => {
      if (gen === this.gen) this.link.report(e);
    });
    socket.on('close', (hadError) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.socket = undefined;
      this.connected = false;
      this.blocked = false;
      this.link.queue.rewind();
      // An idle connection the server closed is no failure; one with frames to resend is.
      if (!hadError && this.link.queue.pending > 0) this.link.failed(new Error(`the syslog server ${this.where()} closed the connection`));
      else this.link.attemptOver();
    });
  }

  private where(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }
}

/** Half-closes the socket, waits (briefly) for it to close, then destroys it. Never rejects. */
function endSocket(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, SOCKET_END_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (socket.connecting) socket.destroy();
      else socket.end(() => socket.destroy());
    } catch {
      socket.destroy();
    }
  });
}
