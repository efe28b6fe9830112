/** The HTTP server: request pipeline (record, auth, faults, latency), lifecycle and the public handle. */
import { azureDeploymentModel } from './models';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RecordedRequest, Simulator, SimulatorOptions, SimulatorStats } from './types';
import type { RequestContext, SimState } from './context';
import { Prng, mixSeed } from './prng';
import { FaultEngine, parseFaultHeader, type ChosenFault } from './faults';
import { PromptCache } from './cache';
import { RateWindow } from './ratelimit';
import { FILES_PREFIX, resolveRoute, type RouteInfo } from './router';
import { readBody, sendBytes, sendError, sleep } from './http';
import { invalidJsonBody, invalidParameter, invalidUrl, overloaded, rateLimited, serverError, unauthorized } from './errors';
import { contentKey, flatHeaders, hasCredentials, parseBody, type ParsedBody } from './request';
import { findHandler } from './routes';

function emptyStats(): SimulatorStats {
  return { total: 0, byPath: {}, byProvider: {}, byModel: {}, faults: {} };
}

function bump(map: Record<string, number>, key: string | undefined): void {
  if (key !== undefined) map[key] = (map[key] ?? 0) + 1;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const seed = options.seed ?? 42;
  const latencyMs = options.latencyMs ?? 0;
  const requireAuth = options.requireAuth ?? true;
  const closing = new AbortController();
  const sockets = new Set<Socket>();
  const faults = new FaultEngine(options.faults ?? [], seed);
  let recorded: RecordedRequest[] = [];
  let stats = emptyStats();
  let sequence = 0;
  let jitter = new Prng(mixSeed(seed, 'latency'));

  const state: SimState = {
    seed,
    url: '',
    chunkDelayMs: options.chunkDelayMs ?? 0,
    promptCache: new PromptCache(),
    rate: new RateWindow(),
    files: new Map(),
    closing: closing.signal,
  };

  function record(method: string, pathname: string, headers: Record<string, string>, route: RouteInfo | undefined, parsed: ParsedBody, model: string | undefined): void {
    const provider = route?.provider ?? 'openai';
    recorded.push({ method, path: pathname, provider, model, headers, body: parsed.body, at: Date.now() });
    stats.total++;
    bump(stats.byPath, pathname);
    bump(stats.byProvider, provider);
    bump(stats.byModel, model);
  }

  /** Answers (or kills) the request for error faults; returns false for delivery faults the writers apply. */
  function applyFault(ctx: RequestContext, fault: ChosenFault): boolean {
    bump(stats.faults, fault.kind);
    switch (fault.kind) {
      case '400':
        sendError(ctx, invalidParameter('messages', 'Simulated bad request.'));
        return true;
      case '429':
        sendError(ctx, rateLimited(ctx.route.provider, ctx.model, fault.retryAfterSeconds));
        return true;
      case '500':
        sendError(ctx, serverError());
        return true;
      case '503':
        sendError(ctx, overloaded(fault.retryAfterSeconds));
        return true;
      case 'hang':
        return true; // never answer; close() destroys the socket
      case 'reset':
        ctx.req.socket.resetAndDestroy();
        return true;
      default:
        ctx.fault = fault.kind;
        return false;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const headers = flatHeaders(req);
    const raw = await readBody(req);
    const route = resolveRoute(url.pathname);
    const parsed = parseBody(raw, headers['content-type']);
    const requested = typeof parsed.body.model === 'string' ? parsed.body.model : route?.deployment;
    record(method, url.pathname, headers, route, parsed, requested);
    // Azure requests name a deployment; its responses report the model the deployment runs.
    const model = route?.provider === 'azure' && requested ? azureDeploymentModel(requested, options.azureDeployments) : requested;
    const seq = ++sequence;
    const ids = new Prng(mixSeed(seed, 'ids', seq));
    const ctx: RequestContext = {
      req,
      res,
      state,
      method,
      pathname: url.pathname,
      query: url.searchParams,
      route: route ?? { provider: 'openai', op: url.pathname.replace(/^\/+/, ''), needsApiVersion: false },
      body: parsed.body,
      files: parsed.files,
      model,
      rng: new Prng(mixSeed(seed, contentKey(route?.op ?? url.pathname, parsed.body, parsed.files))),
      ids,
      omitUsage: headers['x-simulator-usage'] === 'omit',
      requestId: `req_${ids.hex(32)}`,
      startedAt,
    };
    state.rate.hit();

    if (ctx.method === 'GET' && url.pathname.startsWith(FILES_PREFIX)) return serveFile(ctx);
    if (parsed.invalidJson) return sendError(ctx, invalidJsonBody());
    if (requireAuth && !hasCredentials(headers)) return sendError(ctx, unauthorized(ctx.route.provider));
    const fault = parseFaultHeader(headers['x-simulator-fault']) ?? faults.decide({ path: url.pathname, model, provider: ctx.route.provider });
    if (latencyMs > 0) await sleep(latencyMs * (0.8 + 0.4 * jitter.next()), closing.signal);
    if (closing.signal.aborted) return;
    if (fault && applyFault(ctx, fault)) return;
    const handler = route && !(route.needsApiVersion && !url.searchParams.get('api-version')) ? findHandler(ctx.method, route.op) : undefined;
    if (!handler) return sendError(ctx, invalidUrl(ctx.method, url.pathname, ctx.route.provider));
    await handler(ctx);
  }

  function serveFile(ctx: RequestContext): void {
    const file = state.files.get(ctx.pathname.slice(FILES_PREFIX.length));
    if (!file) return sendError(ctx, invalidUrl(ctx.method, ctx.pathname, 'openai'));
    sendBytes(ctx, 200, file.contentType, file.data);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (res.headersSent || res.destroyed) res.destroy();
      else {
        const body = JSON.stringify(serverError().body);
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(body);
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  state.url = url;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    openaiBaseURL: `${url}/v1`,
    azureEndpoint: url,
    xaiBaseURL: `${url}/xai/v1`,
    stats: () => structuredClone(stats),
    requests: () => structuredClone(recorded),
    reset() {
      recorded = [];
      stats = emptyStats();
      sequence = 0;
      jitter = new Prng(mixSeed(seed, 'latency'));
      faults.reset();
      state.promptCache.clear();
      state.rate.reset();
      state.files.clear();
    },
    setFaults: (rules) => faults.setRules(rules),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
