import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { RelayHub } from '../../src/metrics-endpoint/hub';
import { withMembers } from '../../src/metrics-endpoint/merge';
import { endpointRole, type ProcessPlace, relaySocketPath, threadTargets } from '../../src/metrics-endpoint/place';
import { RelayClient } from '../../src/metrics-endpoint/relay';

const place = (p: Partial<ProcessPlace>): ProcessPlace => ({
  pid: 100,
  ppid: 10,
  platform: 'linux',
  uid: 1000,
  tmpdir: '/tmp',
  isMainThread: true,
  threadId: 0,
  clusterWorkerId: undefined,
  env: {},
  inherited: undefined,
  ...p,
});

describe('endpointRole: who serves, who relays, under which label', () => {
  const parent = { group: 'p10', label: 'pid-100' };
  it.each([
    ['a plain process: serves its own group, or relays to its parent', place({}), { serves: 'p100', label: undefined, relaysTo: [parent] }],
    ['a cluster worker: its primary is the group', place({ clusterWorkerId: 3 }), { serves: 'p10', label: '3', relaysTo: [{ group: 'p10', label: '3' }] }],
    [
      'a PM2 instance (fork mode: its settings in the environment)',
      place({ env: { pm_id: '4', name: 'api', NODE_APP_INSTANCE: '1' } }),
      { serves: 'pm2-api', label: '1', relaysTo: [{ group: 'pm2-api', label: '1' }] },
    ],
    [
      'a PM2 instance (cluster mode: settings in pm2_env)',
      place({ clusterWorkerId: 7, env: { pm2_env: JSON.stringify({ pm_id: 4, name: 'my api', NODE_APP_INSTANCE: 0 }) } }),
      { serves: 'pm2-my_api', label: '0', relaysTo: [{ group: 'pm2-my_api', label: '0' }] },
    ],
    ['pm2_env that is not JSON: a cluster worker as any other', place({ clusterWorkerId: 7, env: { pm2_env: '{' } }), { serves: 'p10', label: '7', relaysTo: [{ group: 'p10', label: '7' }] }],
    ['a thread, started by no preloaded main thread', place({ isMainThread: false, threadId: 2 }), { serves: undefined, label: undefined, relaysTo: [{ group: 'p100', label: 'thread-2' }] }],
    [
      'a thread of a plain process: to its process, else where its process relays',
      place({ isMainThread: false, threadId: 1, inherited: threadTargets(endpointRole(place({}))) }),
      {
        serves: undefined,
        label: undefined,
        relaysTo: [
          { group: 'p100', label: 'thread-1' },
          { group: 'p10', label: 'pid-100/thread-1' },
        ],
      },
    ],
    [
      'a thread of a cluster worker',
      place({ isMainThread: false, threadId: 1, inherited: threadTargets(endpointRole(place({ clusterWorkerId: 3 }))) }),
      { serves: undefined, label: undefined, relaysTo: [{ group: 'p10', label: '3/thread-1' }] },
    ],
  ])('%s', (_name, p, role) => {
    expect(endpointRole(p)).toEqual(role);
  });

  it('the socket lives in a directory of the user, named by group and port; a named pipe on Windows', () => {
    expect(relaySocketPath({ platform: 'linux', uid: 1000, tmpdir: '/tmp' }, 'p10', 9464)).toEqual({ dir: '/tmp/llm-governor-1000', path: '/tmp/llm-governor-1000/p10-9464.sock' });
    expect(relaySocketPath({ platform: 'win32', uid: undefined, tmpdir: 'C:\\t' }, 'p10', 9464).path).toBe('\\\\?\\pipe\\llm-governor-p10-9464');
  });
});

const sum = (name: string, points: [Record<string, string>, number][]): MetricData => ({
  descriptor: { name, description: '', unit: '', type: 'COUNTER', valueType: 1 } as MetricData['descriptor'],
  aggregationTemporality: AggregationTemporality.CUMULATIVE,
  dataPointType: DataPointType.SUM,
  isMonotonic: true,
  dataPoints: points.map(([attributes, value]) => ({ attributes, value, startTime: [0, 0], endTime: [1, 0] })),
});
const scope = (metrics: MetricData[], name = 'llm-governor'): ScopeMetrics => ({ scope: { name }, metrics });
const flat = (r: ResourceMetrics) => r.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((d) => [s.scope.name, m.descriptor.name, d.attributes, d.value])));

describe('withMembers: one family per name, every member labelled', () => {
  const own: ResourceMetrics = { resource: {} as ResourceMetrics['resource'], scopeMetrics: [scope([sum('calls', [[{ model: 'a' }, 1]])])] };
  it.each([
    ['no members: the own metrics as they are', [], undefined, [['llm-governor', 'calls', { model: 'a' }, 1]]],
    [
      "a member's points join the same family, labelled",
      [{ label: '2', scopeMetrics: [scope([sum('calls', [[{ model: 'a' }, 5]])])] }],
      undefined,
      [
        ['llm-governor', 'calls', { model: 'a' }, 1],
        ['llm-governor', 'calls', { model: 'a', worker: '2' }, 5],
      ],
    ],
    [
      'a metric or scope the server lacks is added whole',
      [{ label: 't1', scopeMetrics: [scope([sum('other', [[{}, 2]])]), scope([sum('x', [[{}, 3]])], 'app')] }],
      undefined,
      [
        ['llm-governor', 'calls', { model: 'a' }, 1],
        ['llm-governor', 'other', { worker: 't1' }, 2],
        ['app', 'x', { worker: 't1' }, 3],
      ],
    ],
    ['a server with a label of its own labels its points too', [], '0', [['llm-governor', 'calls', { model: 'a', worker: '0' }, 1]]],
    [
      'a member metric of another kind under the same name is left out',
      [{ label: '2', scopeMetrics: [scope([{ ...sum('calls', [[{}, 9]]), dataPointType: DataPointType.GAUGE } as MetricData])] }],
      undefined,
      [['llm-governor', 'calls', { model: 'a' }, 1]],
    ],
  ] as const)('%s', (_name, members, ownLabel, expected) => {
    expect(flat(withMembers(own, members as never, ownLabel))).toEqual(expected);
    expect(flat(own)).toEqual([['llm-governor', 'calls', { model: 'a' }, 1]]); // never mutated
  });
});

describe('the relay socket', () => {
  const socketIn = () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lg-relay-')), 'private');
    return { dir, path: join(dir, 'g-1.sock') };
  };

  it("gathers each member's answer; a member that left is served as it last was, until the retention ends", async () => {
    let now = 0;
    const hub = new RelayHub(1_000, () => now);
    const socket = socketIn();
    await hub.open(socket);
    const member = new RelayClient('w1', async () => [scope([sum('calls', [[{}, 7]])])]);
    expect(await member.connect(socket.path, () => undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect((await hub.gather(1_000)).map((m) => m.label)).toEqual(['w1']);
    await member.close();
    await new Promise((r) => setTimeout(r, 50));
    now = 500;
    expect((await hub.gather(1_000)).map((m) => m.label)).toEqual(['w1']);
    now = 2_000;
    expect(await hub.gather(1_000)).toEqual([]);
    hub.close();
  });

  it('a member that never answers costs the scrape its deadline, no more; one that floods is cut off', async () => {
    const hub = new RelayHub();
    const socket = socketIn();
    await hub.open(socket);
    const silent = connect(socket.path);
    await new Promise((r) => silent.once('connect', r));
    silent.write(`${JSON.stringify({ t: 'hello', label: 'mute' })}\n`);
    const flood = connect(socket.path);
    await new Promise((r) => flood.once('connect', r));
    const closed = new Promise((r) => flood.once('close', r));
    flood.on('error', () => undefined);
    const chunk = 'x'.repeat(1 << 20);
    for (let i = 0; i < 40 && !flood.destroyed; i++) flood.write(chunk);
    await closed;
    const started = Date.now();
    expect(await hub.gather(300)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
    silent.destroy();
    hub.close();
  });

  it('refuses a socket directory that others can enter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-relay-open-'));
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o777);
    await expect(new RelayHub().open({ dir, path: join(dir, 'g.sock') })).rejects.toThrow(/not private/);
  });
});
