import { RedisConnection } from '../util/redis-connection';
import { fleetDocTail, fleetKeys, parseFleetDoc, PUSH_SCRIPT, type FleetDoc } from './fleet-doc';

/**
 * The fleet config in Redis: read it, push a new version (the CLI), and hear of pushes. A notice
 * comes by pub/sub on a connection of its own; it says only that there is a new version, which is
 * then read from the key, so a notice missed while disconnected is caught up on reconnect (and
 * by the periodic check the follower keeps besides).
 */
export class FleetConfigStore {
  private readonly conn: RedisConnection;
  private sub?: RedisConnection;
  private readonly keys: ReturnType<typeof fleetKeys>;

  constructor(
    private readonly url: string,
    private readonly opts: { commandTimeoutMs?: number; namespace?: string } = {},
  ) {
    this.keys = fleetKeys(opts.namespace);
    this.conn = new RedisConnection(url, { commandTimeoutMs: opts.commandTimeoutMs }, { llmGovernorConfigPush: PUSH_SCRIPT });
  }

  /** The document in force for the fleet; undefined when none was ever pushed. */
  async read(): Promise<FleetDoc | { error: string } | undefined> {
    const text = await this.conn.send(() => this.conn.redis.get(this.keys.doc));
    return text == null ? undefined : parseFleetDoc(text);
  }

  /** Stores and publishes `settings` as the next version; returns that version. */
  async push(settings: Record<string, unknown>, origin: string, at = new Date()): Promise<number> {
    return Number(await this.conn.script('llmGovernorConfigPush', [this.keys.doc, this.keys.version], [fleetDocTail(settings, origin, at), this.keys.channel]));
  }

  /** Calls `onNotice` on every push, and on every (re)connection of the subscriber. */
  async follow(onNotice: () => void): Promise<void> {
    if (this.sub) return;
    const sub = (this.sub = new RedisConnection(this.url, { commandTimeoutMs: this.opts.commandTimeoutMs, dedicated: 'fleet-config' }));
    sub.on('message', (channel: string) => channel === this.keys.channel && onNotice());
    // Subscribed: ioredis subscribes again on every reconnect, and a notice may have been missed.
    // Not yet (Redis was away at start): the next connection subscribes.
    let subscribed = false;
    const subscribe = () =>
      sub
        .send(() => sub.redis.subscribe(this.keys.channel))
        .then(
          () => {
            subscribed = true;
          },
          () => undefined,
        );
    sub.on('ready', () => (subscribed ? onNotice() : void subscribe().then(() => subscribed && onNotice())));
    await subscribe();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.conn.close(), this.sub?.close()]);
  }
}
