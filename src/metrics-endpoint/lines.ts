import type { Socket } from 'node:net';

/** A snapshot of every metric of a busy process stays far below this; a peer that sends more is cut off. */
const MAX_LINE_CHARS = 32 * 1024 * 1024;

/** Newline-delimited JSON over a local socket: each complete line that parses goes to `onMessage`. */
export function readLines(socket: Socket, onMessage: (message: Record<string, unknown>) => void): void {
  // The start of a line not yet complete, in pieces: a long line is joined once, when it ends.
  let pieces: string[] = [];
  let pendingLength = 0;
  const deliver = (line: string) => {
    try {
      const message = JSON.parse(line) as unknown;
      if (message && typeof message === 'object') onMessage(message as Record<string, unknown>);
    } catch {
      /* a line that is not ours: dropped */
    }
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let from = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', from)) {
      pieces.push(chunk.slice(from, newline));
      const line = pieces.join('');
      pieces = [];
      pendingLength = 0;
      from = newline + 1;
      deliver(line);
    }
    if (from < chunk.length) {
      pieces.push(chunk.slice(from));
      pendingLength += chunk.length - from;
    }
    if (pendingLength > MAX_LINE_CHARS) {
      pieces = [];
      socket.destroy();
    }
  });
}

export function writeLine(socket: Socket, message: unknown): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}
