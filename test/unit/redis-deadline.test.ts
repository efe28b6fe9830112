import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandTimeoutError, withDeadline } from '../../src/util/redis-connection';

/**
 * A command's deadline: a reply that arrived while the event loop was busy is read before the
 * deadline fails the command (under load the timer and the reply fall due together).
 */
// The server is another process, as Redis is: its reply lands in our socket while we are busy.
let server: ChildProcess;
let port: number;
beforeAll(async () => {
  const code = "const s=require('net').createServer(c=>c.on('data',d=>c.write(d)));s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  server = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise<number>((r) => server.stdout!.once('data', (d) => r(Number(String(d).trim()))));
});
afterAll(() => {
  server?.kill();
});

/** Sends a line over a real socket and resolves with the echo. */
async function echo(): Promise<{ reply: Promise<string>; close: () => void }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const reply = new Promise<string>((r) => socket.once('data', (d) => r(d.toString())));
  socket.write('PING');
  return { reply, close: () => socket.destroy() };
}

const busy = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};

describe('withDeadline', () => {
  it('a reply that is waiting on the socket when the deadline passes still wins', async () => {
    const { reply, close } = await echo();
    const result = withDeadline(reply, 50);
    busy(300); // the loop is blocked past the deadline while the reply arrives
    await expect(result).resolves.toBe('PING');
    close();
  });

  it('no reply at all fails with CommandTimeoutError after the deadline', async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise(() => undefined), 80)).rejects.toBeInstanceOf(CommandTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });

  it('passes failures through, and settles once', async () => {
    await expect(withDeadline(Promise.reject(new Error('boom')), 50)).rejects.toThrow('boom');
    const late = withDeadline(new Promise((r) => setTimeout(() => r('late'), 150)), 50);
    await expect(late).rejects.toBeInstanceOf(CommandTimeoutError);
    await expect(withDeadline(Promise.resolve(7), 50)).resolves.toBe(7);
  });
});
