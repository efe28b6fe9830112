import { createServer } from 'node:net';

async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((r) => {
    srv.once('error', () => r(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => r(true)));
  });
}

/** `preferred` if it is free on 127.0.0.1, else one the system hands out. */
export async function pickPort(preferred = 0): Promise<number> {
  if (preferred > 0 && (await portFree(preferred))) return preferred;
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
