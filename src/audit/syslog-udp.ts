import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import type { SyslogTransport, TransportLink } from './syslog-transport';

/** The largest UDP payload over IPv4 (65 535 − 8 − 20). */
const MAX_DATAGRAM_BYTES = 65_507;

/**
 * Syslog over UDP: one datagram per message, no framing, one send in flight at a time. The host is
 * resolved whenever a socket is opened. A message counts as sent once its send callback reported
 * success; a failed send is tried again after the sink's back-off, and a socket that errors is
 * replaced. UDP is fire-and-forget past the local send.
 */
export class UdpTransport implements SyslogTransport {
  /** Bumped whenever the current socket is given up: callbacks of older ones are ignored. */
  private gen = 0;
  private udp: dgram.Socket | undefined;
  private udpAddress: string | undefined;
  private resolving = false;
  private sending = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly link: TransportLink,
  ) {}

  /** A message over 65 507 bytes cannot be a datagram: undefined, so it is dropped. */
  frame(message: string): Buffer | undefined {
    const data = Buffer.from(message, 'utf8');
    return data.length > MAX_DATAGRAM_BYTES ? undefined : data;
  }

  pump(): void {
    const queue = this.link.queue;
    if (!queue.hasUnsent || this.sending || this.link.backingOff()) return;
    if (!this.udp || this.udpAddress === undefined) {
      this.open();
      return;
    }
    const udp = this.udp;
    const gen = this.gen;
    const seq = queue.nextSeq;
    this.sending = true;
    const data = queue.take();
    const after = (err: Error | null) => {
      if (gen !== this.gen) return;
      this.sending = false;
      if (err) {
        queue.retake(seq);
        if ((err as NodeJS.ErrnoException).code === 'EMSGSIZE') {
          // it will never fit: give up on it rather than block everything behind it
          this.link.report(err);
          this.link.dropHead(seq);
          this.link.schedule();
          return;
        }
        this.link.failed(err);
        return;
      }
      this.link.sent(seq);
      this.link.schedule();
    };
    try {
      udp.send(data, this.port, this.udpAddress, after);
    } catch (e) {
      // the socket is unusable (closed under us): open a new one next time
      this.gen++;
      this.udp = undefined;
      this.sending = false;
      queue.retake(seq);
      closeQuietly(udp);
      this.link.failed(e);
    }
  }

  close(): Promise<void> {
    this.gen++;
    const udp = this.udp;
    this.udp = undefined;
    if (!udp) return Promise.resolve();
    return new Promise<void>((resolve) => {
      try {
        udp.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private open(): void {
    if (this.resolving) return;
    const family = net.isIP(this.host);
    if (family !== 0) {
      this.create(family === 6 ? 'udp6' : 'udp4', this.host);
      this.link.pump();
      return;
    }
    this.resolving = true;
    const gen = this.gen;
    dns.lookup(this.host, (err, address, fam) => {
      this.resolving = false;
      if (gen !== this.gen || this.link.isFinished()) return;
      if (err) {
        this.link.failed(err);
        return;
      }
      this.create(fam === 6 ? 'udp6' : 'udp4', address);
      this.link.pump();
    });
  }

  private create(type: 'udp4' | 'udp6', address: string): void {
    const gen = ++this.gen;
    const udp = dgram.createSocket({ type });
    udp.on('error', (e) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.udp = undefined;
      this.sending = false;
      this.link.queue.retakeUnconfirmed();
      closeQuietly(udp);
      this.link.failed(e);
    });
    udp.unref();
    this.udp = udp;
    this.udpAddress = address;
  }
}

function closeQuietly(udp: dgram.Socket): void {
  try {
    udp.close();
  } catch {
    // already closed
  }
}
