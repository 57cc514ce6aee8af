import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventsV1Event } from '@kubernetes/client-node';
import { EventCorrelator, EventRecorder, TokenBucket, eventName, truncateBytes, REPORTING_CONTROLLER, type EventsApi } from './events.ts';

const rel = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', name: 'acme-router-2.4.0', namespace: 'acme', uid: 'u-1', resourceVersion: '7' };
const blocked = { type: 'Warning' as const, reason: 'Blocked', action: 'Evaluate', note: '2 blocking checks failed' };

void test('token bucket: burst, then refill at the rate', () => {
  const b = new TokenBucket({ burst: 3, ratePerSec: 2, now: 0 });
  assert.deepEqual([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)], [true, true, true, false]);
  assert.equal(b.tryTake(400), false, '0.8 tokens after 400 ms');
  assert.equal(b.tryTake(500), true, '1 token after 500 ms');
  assert.equal(b.tryTake(10_000), true);
  assert.ok(b.tokens <= 2, 'never above burst');
});

void test('correlator: first occurrence creates, repeats within the window patch the series', () => {
  const c = new EventCorrelator({ now: 0 });
  const a = c.observe(rel, blocked, 'acme', 0);
  assert.equal(a.op, 'create');
  assert.deepEqual(c.observe(rel, blocked, 'acme', 1000), { op: 'drop', key: a.key, why: 'pending' }, 'create still in flight');
  c.created(a.key, 'ev-1');
  const s = c.observe(rel, blocked, 'acme', 2000);
  assert.deepEqual(s, { op: 'series', key: a.key, eventName: 'ev-1', namespace: 'acme', count: 3 });
  // Different note, reason or object ⇒ a different event.
  assert.equal(c.observe(rel, { ...blocked, note: 'other' }, 'acme', 2000).op, 'create');
  assert.equal(c.observe({ ...rel, uid: 'u-2' }, blocked, 'acme', 2000).op, 'create');
  assert.equal(c.observe(rel, { ...blocked, reason: 'Approved', type: 'Normal' }, 'acme', 2000).op, 'create');
});

void test('correlator: after the window a new Event is created', () => {
  const c = new EventCorrelator({ now: 0, dedupeWindowMs: 60_000 });
  const a = c.observe(rel, blocked, 'acme', 0);
  c.created(a.key, 'ev-1');
  assert.equal(c.observe(rel, blocked, 'acme', 59_000).op, 'series');
  assert.equal(c.observe(rel, blocked, 'acme', 59_000 + 60_001).op, 'create', 'window counts from the last occurrence');
});

void test('correlator: global rate limit drops but keeps counting', () => {
  const c = new EventCorrelator({ now: 0, burst: 2, ratePerSec: 1 });
  const a = c.observe(rel, blocked, 'acme', 0);
  c.created(a.key, 'ev-1');
  assert.equal(c.observe(rel, blocked, 'acme', 0).op, 'series');
  assert.deepEqual(c.observe(rel, blocked, 'acme', 0), { op: 'drop', key: a.key, why: 'rate-limited' });
  assert.equal(c.observe({ ...rel, uid: 'x' }, blocked, 'acme', 0).op, 'drop');
  const later = c.observe(rel, blocked, 'acme', 1000);
  assert.equal(later.op, 'series');
  assert.equal(later.op === 'series' && later.count, 4, 'the dropped occurrence is included in the count');
});

void test('correlator: memory is bounded (LRU)', () => {
  const c = new EventCorrelator({ now: 0, maxEntries: 10, burst: 1000, ratePerSec: 1000 });
  for (let i = 0; i < 100; i++) c.observe({ ...rel, uid: `u${i}` }, blocked, 'acme', i);
  assert.equal(c.size, 10);
  c.forget('nothing');
});

void test('truncateBytes and eventName', () => {
  assert.equal(truncateBytes('short', 10), 'short');
  const t = truncateBytes('ä'.repeat(1000), 1024);
  assert.ok(Buffer.byteLength(t) <= 1024);
  assert.ok(t.endsWith('…') && !t.includes('\uFFFD'));
  assert.match(eventName('obj', 1_700_000_000_000), /^obj\.[0-9a-f]+$/);
  assert.ok(eventName('x'.repeat(300), 1).length <= 253);
  assert.notEqual(eventName('o', 5, 0), eventName('o', 5, 1));
});

class FakeApi implements EventsApi {
  created: Array<{ namespace: string; body: EventsV1Event }> = [];
  patches: Array<{ name: string; namespace: string; body: unknown }> = [];
  failCreate = false;
  patchStatus: number | undefined;
  async createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event> {
    await Promise.resolve();
    if (this.failCreate) throw Object.assign(new Error('forbidden'), { code: 403 });
    this.created.push(p);
    return p.body;
  }
  async patchNamespacedEvent(p: { name: string; namespace: string; body: unknown }): Promise<EventsV1Event> {
    await Promise.resolve();
    if (this.patchStatus) throw Object.assign(new Error('patch failed'), { code: this.patchStatus });
    this.patches.push(p);
    return {} as EventsV1Event;
  }
}

void test('recorder writes a well-formed events.k8s.io/v1 Event, then series patches', async () => {
  const api = new FakeApi();
  let now = 1_700_000_000_000;
  const r = new EventRecorder({ api, reportingInstance: 'cra-gate-0', now: () => now });
  r.event(rel, blocked);
  await r.flush();
  assert.equal(api.created.length, 1);
  const { namespace, body } = api.created[0]!;
  assert.equal(namespace, 'acme');
  assert.equal(body.reportingController, REPORTING_CONTROLLER);
  assert.equal(body.reportingInstance, 'cra-gate-0');
  assert.equal(body.type, 'Warning');
  assert.equal(body.reason, 'Blocked');
  assert.equal(body.action, 'Evaluate');
  assert.equal(body.note, '2 blocking checks failed');
  assert.deepEqual(body.regarding, { apiVersion: rel.apiVersion, kind: rel.kind, name: rel.name, namespace: 'acme', uid: 'u-1', resourceVersion: '7' });
  assert.match(JSON.stringify(body.eventTime), /\.\d{6}Z"$/, 'MicroTime serialises with microseconds');
  now += 5000;
  r.event(rel, blocked);
  now += 5000;
  r.event(rel, blocked);
  await r.flush();
  assert.equal(api.created.length, 1);
  assert.equal(api.patches.length, 2);
  const last = api.patches[1]!;
  assert.equal(last.name, body.metadata?.name);
  const op = (last.body as Array<{ op: string; path: string; value: { count: number } }>)[0]!;
  assert.equal(op.path, '/series');
  assert.equal(op.value.count, 3);
});

void test('recorder never throws; failed creates are logged and retried on the next occurrence', async () => {
  const api = new FakeApi();
  api.failCreate = true;
  const r = new EventRecorder({ api, reportingInstance: 'i' });
  assert.doesNotThrow(() => r.event(rel, blocked));
  await r.flush();
  api.failCreate = false;
  r.event(rel, blocked);
  await r.flush();
  assert.equal(api.created.length, 1);
});

void test('recorder re-creates the Event when the series target is gone (404)', async () => {
  const api = new FakeApi();
  const r = new EventRecorder({ api, reportingInstance: 'i' });
  r.event(rel, blocked);
  await r.flush();
  api.patchStatus = 404;
  r.event(rel, blocked);
  await r.flush();
  assert.equal(api.created.length, 2);
});

void test('cluster-scoped objects get their Events in default; rate limit counts drops', async () => {
  const api = new FakeApi();
  const r = new EventRecorder({ api, reportingInstance: 'i', burst: 2, ratePerSec: 0.001, now: () => 0 });
  const policy = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', name: 'cra-baseline', uid: 'p-1' };
  for (let i = 0; i < 10; i++) r.event(policy, { ...blocked, note: `n${i}` });
  await r.flush();
  assert.equal(api.created.length, 2);
  assert.equal(api.created[0]!.namespace, 'default');
  assert.equal(r.dropped, 8);
});

void test('constructor requires kubeConfig or api', () => {
  assert.throws(() => new EventRecorder({ reportingInstance: 'i' }));
});

/** An API whose writes wait until released, to observe what is in flight. */
class GatedApi implements EventsApi {
  inFlight = 0;
  maxInFlight = 0;
  created: string[] = [];
  patches: number[] = [];
  #gates: Array<() => void> = [];
  release(): void {
    for (const g of this.#gates.splice(0)) g();
  }
  async #hold(): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((r) => this.#gates.push(r));
    this.inFlight--;
  }
  async createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event> {
    await this.#hold();
    this.created.push(p.body.note ?? '');
    return p.body;
  }
  async patchNamespacedEvent(p: { name: string; namespace: string; body: unknown }): Promise<EventsV1Event> {
    await this.#hold();
    this.patches.push((p.body as Array<{ value: { count: number } }>)[0]!.value.count);
    return {} as EventsV1Event;
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

void test('recorder: event() returns before any API call; writes go through a bounded queue, one in flight', async () => {
  const api = new GatedApi();
  const drops: string[] = [];
  const r = new EventRecorder({ api, reportingInstance: 'i', burst: 100, maxQueued: 3, onDrop: (why) => drops.push(why) });
  for (let i = 0; i < 6; i++) r.event(rel, { ...blocked, note: `n${i}` });
  // One write started, three wait, two did not fit.
  assert.equal(r.queued, 3);
  assert.deepEqual(drops, ['queue-full', 'queue-full']);
  assert.equal(r.dropped, 2);
  let flushed = false;
  const f = r.flush().then(() => { flushed = true; });
  for (let i = 0; i < 4; i++) {
    await tick();
    assert.equal(api.inFlight, 1, 'never more than one write in flight');
    api.release();
  }
  await f;
  assert.ok(flushed);
  assert.equal(api.maxInFlight, 1);
  assert.deepEqual(api.created, ['n0', 'n1', 'n2', 'n3']);
  // A dropped create is forgotten: its next occurrence creates the Event.
  r.event(rel, { ...blocked, note: 'n5' });
  await tick();
  api.release();
  await r.flush();
  assert.deepEqual(api.created.at(-1), 'n5');
});

void test('recorder: series updates waiting for the writer are merged into one patch with the latest count', async () => {
  const api = new GatedApi();
  let now = 0;
  const drops: string[] = [];
  const r = new EventRecorder({ api, reportingInstance: 'i', burst: 100, now: () => now, onDrop: (why) => drops.push(why) });
  r.event(rel, blocked);
  await tick();
  api.release();
  await r.flush();
  r.event({ ...rel, uid: 'other' }, blocked); // occupies the writer
  for (let i = 0; i < 5; i++) {
    now += 1000;
    r.event(rel, blocked);
  }
  assert.equal(r.queued, 1, 'five occurrences, one waiting series update');
  for (let i = 0; i < 3; i++) {
    await tick();
    api.release();
  }
  await r.flush();
  assert.deepEqual(api.patches, [6], 'one patch carrying the count of all six occurrences');
  assert.deepEqual(drops, []);
});

void test('recorder: rate-limited events are reported to onDrop', async () => {
  const api = new FakeApi();
  const drops: string[] = [];
  const r = new EventRecorder({ api, reportingInstance: 'i', burst: 1, ratePerSec: 0.001, now: () => 0, onDrop: (why) => drops.push(why) });
  r.event(rel, blocked);
  r.event(rel, { ...blocked, note: 'other' });
  await r.flush();
  assert.deepEqual(drops, ['rate-limited']);
});

void test('recorder: writes are held while the caller is busy, at most maxDeferMs each', async () => {
  const api = new FakeApi();
  let busy = true;
  let now = 0;
  const r = new EventRecorder({ api, reportingInstance: 'i', now: () => now, defer: () => busy, maxDeferMs: 1000 });
  r.event(rel, blocked);
  r.event(rel, { ...blocked, note: 'second' });
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(api.created.length, 0, 'held while busy');
  assert.equal(r.queued, 2);
  busy = false;
  await r.flush();
  assert.equal(api.created.length, 2, 'written once the caller is idle');
  // Busy for good: a write waits at most maxDeferMs.
  busy = true;
  r.event(rel, { ...blocked, note: 'third' });
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(api.created.length, 2);
  now += 1000;
  await r.flush();
  assert.equal(api.created.length, 3, 'written after maxDeferMs although still busy');
});
