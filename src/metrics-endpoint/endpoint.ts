import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { getEnvironmentData, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { CollectionResult, MetricReader, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { RelayHub } from './hub';
import { withoutWithdrawn } from '../util/withdrawn-series';
import { withMembers } from './merge';
import { endpointRole, type EndpointRole, relaySocketPath, threadTargets } from './place';
import { RelayClient } from './relay';

const ROLE_KEY = 'llm-governor:metrics-endpoint';
/** How long a scrape waits for the members' answers; a member that is late is served as it last was. */
const GATHER_MS = 1_500;
/** Failed tries (about 15 s of them) before the one warning that these metrics are not served anywhere: a server that is shutting down holds the port a while. */
const TRIES_BEFORE_WARNING = 6;

interface Options {
  port: number;
  host: string | undefined;
  endpoint: string;
  role: EndpointRole;
  /** The relay socket of a group. */
  socketOf: (group: string) => { dir?: string; path: string };
}

/**
 * The Prometheus endpoint, shared by every process and thread of a group (see place.ts): the
 * first main thread that binds the port serves it; every other member relays its metrics to it
 * over a local socket, and they are served with a `worker` label. A process that cannot bind
 * the port relays to its parent's endpoint when the parent serves one (a dev server's child). A cluster worker or a thread
 * never binds the port that another member holds (no EADDRINUSE); when the serving member goes
 * away, the next one to bind the port takes over.
 */
class SharedPrometheusEndpoint extends PrometheusExporter {
  private server: Server | undefined;
  private hub: RelayHub | undefined;
  private relay: RelayClient | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly options: Options) {
    super({ preventServerStart: true, port: options.port, host: options.host, endpoint: options.endpoint });
    void this.elect();
  }

  override async collect(options?: Parameters<MetricReader['collect']>[0]): Promise<CollectionResult> {
    const collected = await super.collect(options);
    const own = { ...collected, resourceMetrics: withoutWithdrawn(collected.resourceMetrics) };
    if (!this.hub) return own;
    const members = await this.hub.gather(GATHER_MS);
    return { resourceMetrics: withMembers(own.resourceMetrics, members, this.options.role.label), errors: own.errors };
  }

  private async ownScopeMetrics(): Promise<ScopeMetrics[]> {
    return withoutWithdrawn((await super.collect()).resourceMetrics).scopeMetrics;
  }

  private async elect(): Promise<void> {
    if (this.closed) return;
    if ((await this.serve()) || (await this.follow())) {
      this.failures = 0;
      return;
    }
    if (++this.failures === TRIES_BEFORE_WARNING) {
      const where = this.options.role.serves ? `port ${this.options.port} is in use by another process` : `no process of this app serves port ${this.options.port}`;
      diag.warn(`llm-governor: ${where}: these metrics are not served (set OTEL_EXPORTER_PROMETHEUS_PORT to a free port, or OTEL_METRICS_EXPORTER=otlp to push them)`);
    }
    this.retryIn(Math.min(10_000, 250 * 2 ** Math.min(this.failures, 6)) * (0.75 + Math.random() / 2));
  }

  private retryIn(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.elect(), ms);
    this.retry.unref();
  }

  private serve(): Promise<boolean> {
    const group = this.options.role.serves;
    if (!group) return Promise.resolve(false);
    const server = createServer((req, res) => this.answer(req, res));
    return new Promise((resolve) => {
      server.once('error', () => resolve(false));
      // exclusive: a cluster worker binds the port itself, never through a handle its primary shares.
      server.listen({ port: this.options.port, host: this.options.host, exclusive: true }, () => {
        server.unref();
        server.on('error', () => undefined);
        this.server = server;
        const hub = new RelayHub();
        hub.open(this.options.socketOf(group)).then(
          () => {
            this.hub = hub;
          },
          (err: Error) => diag.warn(`llm-governor: the other processes of this app cannot relay their metrics here: ${err.message}`),
        );
        resolve(true);
      });
    });
  }

  private async follow(): Promise<boolean> {
    for (const target of this.options.role.relaysTo) {
      const relay = new RelayClient(target.label, () => this.ownScopeMetrics());
      const connected = await relay.connect(this.options.socketOf(target.group).path, () => {
        this.relay = undefined;
        this.retryIn(100 + Math.random() * 400);
      });
      if (connected) {
        this.relay = relay;
        return true;
      }
    }
    return false;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    let path: string | undefined;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      /* answered 404 below */
    }
    if (path === this.options.endpoint) return this.getMetricsRequestHandler(req, res);
    res.statusCode = 404;
    res.end();
  }

  override async onShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.relay?.close();
    this.hub?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function inheritedTargets(): ReturnType<typeof threadTargets> | undefined {
  const v = getEnvironmentData(ROLE_KEY);
  return Array.isArray(v) && v.every((t) => typeof t?.group === 'string') ? v : undefined;
}

/**
 * The metrics endpoint of this process or thread, from the standard settings
 * (OTEL_EXPORTER_PROMETHEUS_HOST / _PORT, default 9464). Worker threads started from here learn
 * which group they belong to.
 */
export function sharedPrometheusEndpoint(env: NodeJS.ProcessEnv = process.env): PrometheusExporter {
  const role = endpointRole({
    pid: process.pid,
    ppid: process.ppid,
    platform: process.platform,
    uid: process.getuid?.(),
    tmpdir: tmpdir(),
    isMainThread,
    threadId,
    clusterWorkerId: cluster.isWorker ? cluster.worker?.id : undefined,
    env,
    inherited: isMainThread ? undefined : inheritedTargets(),
  });
  setEnvironmentData(ROLE_KEY, threadTargets(role));
  const port = Number(env.OTEL_EXPORTER_PROMETHEUS_PORT) || 9464;
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || undefined;
  const here = { platform: process.platform, uid: process.getuid?.(), tmpdir: tmpdir() };
  return new SharedPrometheusEndpoint({ port, host, endpoint: '/metrics', role, socketOf: (group) => relaySocketPath(here, group, port) });
}
