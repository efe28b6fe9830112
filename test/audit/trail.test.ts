// The audit trail between the call path and the sinks: enqueue only, build and validate later,
// drop and count when full, warn once, never throw; its metrics read back from a real MeterProvider.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import type { OcsfApiActivity } from '../../src/audit/ocsf';
import type { AuditSink } from '../../src/audit/sink';
import { AuditTrail, type AuditEventFacts } from '../../src/audit/trail';
import { OtelLogSink } from '../../src/audit/otel-sink';
import { logs } from '@opentelemetry/api-logs';
import { configSchema } from '../../src/config/schema';
import { auditServiceName, createAuditTrail } from '../../src/audit';
import { GOVERNOR_METRIC } from '../../src/semconv';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A sink that keeps what it is given, or fails as told. */
class MemorySink implements AuditSink {
  readonly events: OcsfApiActivity[] = [];
  throwOnWrite = false;
  constructor(readonly name = 'memory') {}
  write(event: OcsfApiActivity): boolean {
    if (this.throwOnWrite) throw new Error('disk on fire');
    this.events.push(event);
    return true;
  }
  flush = async () => undefined;
  flushSync = () => undefined;
  close = async () => undefined;
}

const source = { serviceName: 'svc', hostname: 'host-1', productVersion: '1.2.3' };
const call: AuditEventFacts = { operation: 'chat', provider: 'openai', model: 'gpt-4o-mini', usage: { promptTokens: 3, completionTokens: 4 } };

function setup(maxQueue?: number) {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const sink = new MemorySink();
  const trail = new AuditTrail({ source, sinks: [sink], maxQueue });
  const read = async (name: string) => {
    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value as number }));
  };
  return { trail, sink, read, meter: provider.getMeter('test') };
}

const warnings: string[] = [];
diag.setLogger({ warn: (m: string) => warnings.push(m), error: () => {}, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
afterEach(() => {
  warnings.length = 0;
});

const tick = () => new Promise((r) => setImmediate(r));

describe('AuditTrail', () => {
  it('record only enqueues: nothing is built until the next turn of the event loop', async () => {
    const { trail, sink } = setup();
    trail.record('call_completed', call);
    expect(sink.events).toHaveLength(0);
    await tick();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ class_uid: 6003, src_endpoint: { svc_name: 'svc', hostname: 'host-1' }, metadata: { product: { version: '1.2.3' } } });
  });

  it('takes the time at record, not at build', async () => {
    const { trail, sink } = setup();
    const before = Date.now();
    trail.record('call_completed', call);
    await new Promise((r) => setTimeout(r, 30));
    await tick();
    expect(sink.events[0].time).toBeGreaterThanOrEqual(before);
    expect(sink.events[0].time).toBeLessThan(before + 25);
  });

  it('a full queue drops the newest, counts each drop and warns once', async () => {
    const { trail, sink, read, meter } = setup(100);
    trail.setMeter(meter);
    for (let i = 0; i < 250; i++) trail.record('call_completed', call);
    await tick();
    expect(sink.events).toHaveLength(100);
    expect(trail.counters()).toMatchObject({ recorded: 100, emitted: 100, dropped: 150 });
    const dropped = await read(GOVERNOR_METRIC.AUDIT_DROPPED);
    expect(dropped.find((p) => p.attributes.reason === 'queue_full')?.value).toBe(150);
    expect(warnings.filter((w) => w.includes('dropped'))).toHaveLength(1);
    expect((await read(GOVERNOR_METRIC.AUDIT_EVENTS)).find((p) => p.attributes['llm_governor.audit.kind'] === 'call_completed')?.value).toBe(100);
  });

  it('counts from before the meter existed are not lost', async () => {
    const { trail, read, meter } = setup(10);
    for (let i = 0; i < 12; i++) trail.record('cache_hit', call);
    await tick();
    trail.setMeter(meter);
    expect((await read(GOVERNOR_METRIC.AUDIT_DROPPED)).find((p) => p.attributes.reason === 'queue_full')?.value).toBe(2);
    expect((await read(GOVERNOR_METRIC.AUDIT_EVENTS)).find((p) => p.attributes['llm_governor.audit.kind'] === 'cache_hit')?.value).toBe(10);
  });

  it('an event that fails validation is dropped and counted as invalid, never sent half-right', async () => {
    const { trail, sink, read, meter } = setup();
    trail.setMeter(meter);
    // The builder leaves out what it can check (a bad trace id, a limit of 0); a breaker state it
    // copies as given is caught by the schema.
    trail.record('breaker_opened', { breaker: { provider: 'openai', from: 'sideways' as never } });
    trail.record('call_completed', call);
    await tick();
    expect(sink.events).toHaveLength(1);
    expect((await read(GOVERNOR_METRIC.AUDIT_DROPPED)).find((p) => p.attributes.reason === 'invalid')?.value).toBe(1);
    expect(warnings.some((w) => w.includes('failed OCSF validation'))).toBe(true);
  });

  it('a sink that throws never reaches the caller; the other sinks still get every event', async () => {
    const bad = new MemorySink('bad');
    bad.throwOnWrite = true;
    const good = new MemorySink('good');
    const trail = new AuditTrail({ source, sinks: [bad, good] });
    expect(() => trail.record('call_completed', call)).not.toThrow();
    await tick();
    expect(good.events).toHaveLength(1);
    expect(trail.counters().dropped).toBe(1);
  });

  it('with no sink active (no logger provider registered), events are not even built', async () => {
    const otel = new OtelLogSink(() => logs.getLogger('t'));
    expect(otel.isActive()).toBe(false); // nothing registered in this process
    const trail = new AuditTrail({ source, sinks: [otel] });
    trail.record('call_completed', call);
    await tick();
    expect(trail.counters()).toMatchObject({ recorded: 0, emitted: 0, dropped: 0 });
    // Once a provider is registered, the same sink takes the events.
    const emitted: unknown[] = [];
    const provider = { getLogger: () => ({ emit: (r: unknown) => emitted.push(r) }) };
    logs.setGlobalLoggerProvider(provider as never);
    try {
      expect(otel.isActive()).toBe(true);
      trail.record('call_completed', call);
      await tick();
      expect(emitted).toHaveLength(1);
      expect(emitted[0]).toMatchObject({ eventName: 'llm_governor.audit', body: { class_uid: 6003 } });
    } finally {
      logs.disable();
    }
  });

  it('flushSync builds what is queued at once (exit hooks)', () => {
    const { trail, sink } = setup();
    trail.record('call_completed', call);
    trail.record('call_failed', { ...call, statusCode: 500 });
    trail.flushSync();
    expect(sink.events.map((e) => e.unmapped.kind)).toEqual(['call_completed', 'call_failed']);
  });

  it('after close, new events are dropped and counted as such', async () => {
    const { trail, sink, read, meter } = setup();
    trail.setMeter(meter);
    trail.record('call_completed', call);
    await trail.close();
    trail.record('call_completed', call);
    trail.flushSync();
    expect(sink.events).toHaveLength(1);
    expect((await read(GOVERNOR_METRIC.AUDIT_DROPPED)).find((p) => p.attributes.reason === 'closed')?.value).toBe(1);
  });
});

describe('createAuditTrail and the audit settings', () => {
  it('builds the sinks the config asks for', () => {
    const sinks = (c: object) => createAuditTrail(configSchema.parse(c), { logger: () => ({ emit: () => undefined }), productVersion: '0' }).sinks.map((s) => s.name);
    expect(sinks({})).toEqual(['otel']);
    expect(sinks({ audit_otel_logs: false })).toEqual([]);
    expect(sinks({ audit_file: '/tmp/x.jsonl', audit_syslog: 'udp://127.0.0.1:5514' })).toEqual(['otel', 'file', 'syslog']);
  });

  it('names a bad setting and what is expected', () => {
    for (const [key, value, expected] of [
      ['audit_syslog', 'http://collector:514', 'expected tcp://host:port or udp://host:port'],
      ['audit_file_max_mb', '-1', 'expected a size in MiB above 0'],
      ['audit_file_max_files', '2.5', 'expected'],
      ['audit_queue_size', '10', 'expected at least 100 events'],
      ['audit_otel_logs', 'maybe', 'expected true or false'],
    ] as const) {
      const r = configSchema.safeParse({ [key]: value });
      expect(r.success, key).toBe(false);
      expect(r.error!.issues[0].message.toLowerCase(), key).toContain(expected.toLowerCase());
    }
  });

  it('the service name: OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES, then the config, then the SDK default', () => {
    expect(auditServiceName({ service_name: 'cfg' }, { OTEL_SERVICE_NAME: 'env' })).toBe('env');
    expect(auditServiceName({ service_name: 'cfg' }, { OTEL_RESOURCE_ATTRIBUTES: 'a=b,service.name=res%20svc' })).toBe('res svc');
    expect(auditServiceName({ service_name: 'cfg' }, {})).toBe('cfg');
    expect(auditServiceName({}, {})).toBe('unknown_service:node');
  });
});
