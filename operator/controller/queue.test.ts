import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueAbortError, WorkQueue, isTerminalError, type QueueTimers, type WorkOutcome } from './queue.ts';

/** A manual clock + timers: `advance(ms)` fires due timers in deadline order. */
class FakeTime implements QueueTimers {
  now = 0;
  #seq = 0;
  timers = new Map<number, { at: number; fn: () => void }>();
  clock = (): number => this.now;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets queued microtasks and immediate promise chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

void test('dedupes a key added many times while waiting', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  for (let i = 0; i < 10; i++) q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  await settle();
  assert.deepEqual(runs, ['a', 'b']);
  assert.equal(q.len(), 0);
});

void test('never runs one key concurrently; an add during processing re-runs it exactly once', async () => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const gates: Array<ReturnType<typeof deferred>> = [];
  const q = new WorkQueue({
    concurrency: 4,
    handler: async () => {
      await Promise.resolve();
      active++; runs++; maxActive = Math.max(maxActive, active);
      const d = deferred(); gates.push(d);
      await d.promise;
      active--;
    },
  });
  q.add('k');
  await settle();
  assert.equal(q.inFlight(), 1);
  q.add('k'); q.add('k'); q.add('k');
  await settle();
  assert.equal(runs, 1, 'not started again while in flight');
  assert.equal(q.len(), 0, 'dirty keys are not in the waiting queue');
  gates[0]!.resolve();
  await settle();
  assert.equal(runs, 2, 're-run once after the current run');
  gates[1]!.resolve();
  await settle();
  assert.equal(runs, 2);
  assert.equal(maxActive, 1);
});

void test('bounds concurrency across keys', async () => {
  let active = 0;
  let maxActive = 0;
  const gates: Array<ReturnType<typeof deferred>> = [];
  const done: string[] = [];
  const q = new WorkQueue({
    concurrency: 3,
    handler: async (k) => {
      active++; maxActive = Math.max(maxActive, active);
      const d = deferred(); gates.push(d);
      await d.promise;
      active--; done.push(k);
    },
  });
  for (let i = 0; i < 10; i++) q.add(`k${i}`);
  await settle();
  assert.equal(q.inFlight(), 3);
  assert.equal(q.len(), 7);
  while (done.length < 10) {
    const g = gates.shift();
    assert.ok(g, 'a handler is waiting');
    g.resolve();
    await settle();
  }
  assert.equal(maxActive, 3);
  assert.deepEqual(done, Array.from({ length: 10 }, (_, i) => `k${i}`), 'FIFO order');
});

void test('retries a failing key with growing backoff and resets it on success', async () => {
  const t = new FakeTime();
  let calls = 0;
  const callTimes: number[] = [];
  const errors: Array<{ willRetry: boolean; retryInMs: number | undefined }> = [];
  let retries = 0;
  const q = new WorkQueue({
    concurrency: 1,
    backoff: { initialMs: 100, maxMs: 1000, jitter: 0 },
    clock: t.clock, timers: t,
    metrics: { retry: () => { retries++; } },
    handler: async () => {
      await Promise.resolve();
      calls++; callTimes.push(t.now);
      if (calls <= 3) throw new Error(`boom ${calls}`);
    },
    onError: (_k, _e, willRetry, retryInMs) => errors.push({ willRetry, retryInMs }),
  });
  q.add('x');
  await settle();
  assert.equal(calls, 1);
  assert.equal(q.retries('x'), 1);
  await t.advance(99);
  assert.equal(calls, 1, 'not before the backoff delay');
  await t.advance(1);
  assert.equal(calls, 2);
  await t.advance(200);
  assert.equal(calls, 3);
  await t.advance(400);
  assert.equal(calls, 4);
  assert.deepEqual(callTimes, [0, 100, 300, 700]);
  assert.deepEqual(errors, [
    { willRetry: true, retryInMs: 100 },
    { willRetry: true, retryInMs: 200 },
    { willRetry: true, retryInMs: 400 },
  ]);
  assert.equal(retries, 3);
  assert.equal(q.retries('x'), 0, 'reset on success');
  assert.equal(q.delayedCount(), 0);
  // A later failure starts from the initial delay again.
  calls = 0;
  q.add('x');
  await settle();
  assert.equal(errors.at(-1)?.retryInMs, 100);
});

void test('terminal errors (retryable === false) are not retried', async () => {
  const t = new FakeTime();
  let calls = 0;
  const errors: Array<{ key: string; willRetry: boolean }> = [];
  const outcomes: WorkOutcome[] = [];
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t,
    handler: async () => {
      await Promise.resolve();
      calls++;
      throw Object.assign(new Error('bad spec'), { code: 'InvalidSpec', retryable: false });
    },
    onError: (key, _e, willRetry) => errors.push({ key, willRetry }),
    metrics: { workDuration: (_s, o) => outcomes.push(o) },
  });
  q.add('t');
  await settle();
  await t.advance(120_000);
  assert.equal(calls, 1);
  assert.deepEqual(errors, [{ key: 't', willRetry: false }]);
  assert.deepEqual(outcomes, ['terminal']);
  assert.equal(q.delayedCount(), 0);
  assert.equal(isTerminalError({ retryable: false }), true);
  assert.equal(isTerminalError({ retryable: true }), false);
  assert.equal(isTerminalError(new Error('x')), false);
  assert.equal(isTerminalError(null), false);
});

void test('requeueAfterMs schedules one later run; the earliest timer wins', async () => {
  const t = new FakeTime();
  const runs: number[] = [];
  let first = true;
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t,
    handler: async () => {
      await Promise.resolve();
      runs.push(t.now);
      if (first) { first = false; return { requeueAfterMs: 5000 }; }
      return undefined;
    },
  });
  q.add('r');
  await settle();
  assert.deepEqual(runs, [0]);
  assert.equal(q.delayedCount(), 1);
  q.addAfter('r', 10_000); // later: ignored
  assert.equal(t.timers.size, 1);
  q.addAfter('r', 2000); // earlier: replaces
  assert.equal(t.timers.size, 1);
  await t.advance(2000);
  assert.deepEqual(runs, [0, 2000]);
  await t.advance(20_000);
  assert.deepEqual(runs, [0, 2000], 'the replaced 5 s timer and the ignored 10 s one never fire');
  assert.equal(q.delayedCount(), 0);
});

void test('default timers are unref()ed and fire', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  q.addAfter('later', 20);
  const deadline = Date.now() + 2000;
  while (runs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(runs, ['later']);
  // A long unref'ed timer must not keep the test process alive; shutdown clears it anyway.
  q.addAfter('much-later', 3_600_000);
  const res = await q.shutdown();
  assert.deepEqual(res, { drained: true, inFlight: [] });
});

void test('shutdown stops intake and waits for in-flight handlers', async () => {
  const gate = deferred();
  const runs: string[] = [];
  const q = new WorkQueue({
    concurrency: 1,
    handler: async (k) => { runs.push(k); if (k === 'slow') await gate.promise; },
  });
  q.add('slow');
  q.add('waiting');
  await settle();
  assert.equal(q.inFlight(), 1);
  let resolved = false;
  const p = q.shutdown({ drainTimeoutMs: 5000 }).then((r) => { resolved = true; return r; });
  q.add('after-shutdown');
  q.addAfter('after-shutdown-2', 1);
  await settle();
  assert.equal(resolved, false);
  assert.equal(q.len(), 0);
  gate.resolve();
  assert.deepEqual(await p, { drained: true, inFlight: [] });
  await settle();
  assert.deepEqual(runs, ['slow'], 'waiting and later keys are dropped');
});

void test('shutdown gives up after the drain timeout', async () => {
  const t = new FakeTime();
  const q = new WorkQueue({ concurrency: 1, clock: t.clock, timers: t, handler: () => new Promise(() => {}) });
  q.add('stuck');
  await settle();
  const p = q.shutdown({ drainTimeoutMs: 1000 });
  await t.advance(1000);
  assert.deepEqual(await p, { drained: false, inFlight: ['stuck'] });
});

void test('a failure during shutdown is not retried', async () => {
  const gate = deferred();
  const errors: boolean[] = [];
  const q = new WorkQueue({
    concurrency: 1,
    handler: async () => { await gate.promise; throw new Error('late'); },
    onError: (_k, _e, willRetry) => errors.push(willRetry),
  });
  q.add('k');
  await settle();
  const p = q.shutdown({ drainTimeoutMs: 5000 });
  gate.resolve();
  assert.equal((await p).drained, true);
  assert.deepEqual(errors, [false]);
  assert.equal(q.delayedCount(), 0);
});

void test('metrics hooks see depth, adds and durations', async () => {
  const t = new FakeTime();
  const depths: number[] = [];
  let adds = 0;
  const durations: Array<[number, WorkOutcome]> = [];
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t,
    handler: async (k) => { await Promise.resolve(); t.now += 250; if (k === 'b') return { requeueAfterMs: 10 }; return undefined; },
    metrics: { depth: (n) => depths.push(n), add: () => { adds++; }, workDuration: (s, o) => durations.push([s, o]) },
  });
  q.add('a'); q.add('a'); q.add('b');
  await settle();
  assert.equal(adds, 3);
  assert.deepEqual(depths, [1, 2, 1, 0]);
  assert.deepEqual(durations, [[0.25, 'success'], [0.25, 'requeue']]);
});

void test('a handler that throws synchronously is retried, and a throwing onError hook is contained', async () => {
  const t = new FakeTime();
  let calls = 0;
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t, backoff: { initialMs: 10, jitter: 0 },
    handler: () => { calls++; if (calls === 1) throw new Error('sync'); return Promise.resolve(); },
    onError: () => { throw new Error('hook broke'); },
  });
  q.add('s');
  await settle();
  await t.advance(10);
  assert.equal(calls, 2);
});

void test('rejects a bad concurrency', () => {
  assert.throws(() => new WorkQueue({ concurrency: 0, handler: async () => {} }), RangeError);
});

/** A handler that resolves only when its signal is aborted, recording the abort reason. */
function untilAborted(reasons: unknown[]): (key: string, signal: AbortSignal) => Promise<void> {
  return (_k, signal) =>
    new Promise<void>((_, reject) => {
      signal.addEventListener('abort', () => { reasons.push(signal.reason); reject(signal.reason as Error); }, { once: true });
    });
}

void test('a run past its deadline has its signal aborted (TimeoutError) and is retried with backoff', async () => {
  const t = new FakeTime();
  const reasons: unknown[] = [];
  const retried: boolean[] = [];
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t, timeoutMs: 5000,
    backoff: { initialMs: 100, jitter: 0 },
    handler: untilAborted(reasons),
    onError: (_k, _e, willRetry) => retried.push(willRetry),
  });
  q.add('slow');
  await settle();
  await t.advance(4999);
  assert.equal(reasons.length, 0);
  await t.advance(1);
  assert.equal(reasons.length, 1);
  assert.ok(reasons[0] instanceof QueueAbortError && reasons[0].kind === 'timeout');
  assert.deepEqual(retried, [true]);
  assert.equal(q.inFlight(), 0);
});

void test('cancelAll aborts every running handler; shutdown cancels by default and drains', async () => {
  const t = new FakeTime();
  const reasons: unknown[] = [];
  const q = new WorkQueue({ concurrency: 2, clock: t.clock, timers: t, handler: untilAborted(reasons) });
  q.add('a'); q.add('b');
  await settle();
  assert.equal(q.inFlight(), 2);
  const res = await q.shutdown({ drainTimeoutMs: 1000 });
  assert.deepEqual(res, { drained: true, inFlight: [] });
  assert.equal(reasons.length, 2);
  assert.ok(reasons.every((r) => r instanceof QueueAbortError && r.kind === 'cancelled'));
});

void test('a handler that ignores its aborted signal is abandoned after the grace period', async () => {
  const t = new FakeTime();
  const errors: unknown[] = [];
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t, abortGraceMs: 2000,
    handler: () => new Promise(() => {}),
    onError: (_k, e) => errors.push(e),
  });
  q.add('deaf');
  await settle();
  assert.equal(q.cancelAll('lost leadership'), 1);
  await t.advance(1999);
  assert.equal(q.inFlight(), 1, 'still within the grace period');
  await t.advance(1);
  assert.equal(q.inFlight(), 0, 'released after the grace period');
  assert.ok(errors[0] instanceof QueueAbortError);
});

void test('retries wait for the larger of the per-key backoff and the overall token bucket', async () => {
  const t = new FakeTime();
  const delays: number[] = [];
  const q = new WorkQueue({
    concurrency: 10, clock: t.clock, timers: t,
    backoff: { initialMs: 10, jitter: 0 },
    rateLimit: { qps: 10, burst: 2 },
    handler: () => Promise.reject(new Error('boom')),
    onError: (_k, _e, _w, ms) => delays.push(ms ?? -1),
  });
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  await settle();
  assert.deepEqual(delays, [10, 10, 100, 200], 'two from the burst, then 1/qps apart (debt), each at least the backoff');
  await q.shutdown();
});

void test('queue duration, unfinished work and the longest running processor', async () => {
  const t = new FakeTime();
  const waited: number[] = [];
  const gates: Array<ReturnType<typeof deferred>> = [];
  const q = new WorkQueue({
    concurrency: 1, clock: t.clock, timers: t,
    metrics: { queueDuration: (s) => waited.push(s) },
    handler: () => { const d = deferred(); gates.push(d); return d.promise; },
  });
  q.add('a');
  q.add('b');
  await settle();
  await t.advance(3000);
  assert.equal(q.unfinishedWorkSeconds(), 3);
  assert.equal(q.longestRunningSeconds(), 3);
  gates[0]!.resolve();
  await settle();
  assert.deepEqual(waited, [0, 3], 'b waited 3 s behind a');
  await t.advance(1000);
  assert.equal(q.longestRunningSeconds(), 1);
  gates[1]!.resolve();
  await settle();
  assert.equal(q.unfinishedWorkSeconds(), 0);
});

void test('priority lanes: normal keys are served before low ones; FIFO within a lane', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  q.add('p1', 'low');
  q.add('p2', 'low');
  q.add('n1');
  q.add('p3', 'low');
  q.add('n2', 'normal');
  assert.equal(q.len(), 5);
  assert.equal(q.laneLen('low'), 3);
  assert.equal(q.laneLen('normal'), 2);
  await settle();
  assert.deepEqual(runs, ['n1', 'n2', 'p1', 'p2', 'p3']);
});

void test('priority lanes: a normal add promotes a waiting low key once; a low add never demotes', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  q.add('a', 'low');
  q.add('b', 'low');
  q.add('b'); // promoted
  q.add('c');
  q.add('c', 'low'); // stays normal
  assert.equal(q.len(), 3);
  assert.equal(q.laneLen('normal'), 2);
  await settle();
  assert.deepEqual(runs, ['b', 'c', 'a'], 'b ran once, before c; its stale low entry was skipped');
});

void test('priority lanes: a new key added while low keys wait is taken by the next free worker', async () => {
  const runs: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const q = new WorkQueue({
    concurrency: 1,
    handler: async (k) => {
      runs.push(k);
      const d = deferred();
      gates.set(k, d);
      await d.promise;
    },
  });
  for (let i = 0; i < 5; i++) q.add(`periodic-${i}`, 'low');
  await settle();
  assert.deepEqual(runs, ['periodic-0']);
  q.add('new');
  gates.get('periodic-0')!.resolve();
  await settle();
  assert.deepEqual(runs, ['periodic-0', 'new']);
  gates.get('new')!.resolve();
  await settle();
  assert.equal(runs[2], 'periodic-1');
  for (const d of gates.values()) d.resolve();
  await q.shutdown({ cancel: false, drainTimeoutMs: 1000 });
});

void test('priority lanes: requeueAfterMs results come back in the low lane; a dirty key keeps its highest lane', async () => {
  const time = new FakeTime();
  const runs: string[] = [];
  const gate = deferred();
  let first = true;
  const q = new WorkQueue({
    concurrency: 1,
    clock: time.clock,
    timers: time,
    handler: async (k) => {
      runs.push(k);
      if (k === 'busy' && first) {
        first = false;
        await gate.promise;
      }
      return k === 'periodic' ? { requeueAfterMs: 1000 } : undefined;
    },
  });
  q.add('periodic');
  await settle();
  assert.equal(q.delayedCount(), 1);
  q.add('busy');
  await settle();
  q.add('busy', 'low');
  q.add('busy');
  await time.advance(1000); // periodic comes due while busy runs: low lane
  assert.equal(q.laneLen('low'), 1);
  q.add('other');
  gate.resolve();
  await settle();
  // busy re-runs in the normal lane (added normal while running), then other, then the periodic key.
  assert.deepEqual(runs, ['periodic', 'busy', 'other', 'busy', 'periodic']);
  await q.shutdown();
});

void test('priority lanes: addAfter keeps the higher lane when timers merge', async () => {
  const time = new FakeTime();
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, clock: time.clock, timers: time, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  q.addAfter('x', 500);
  q.addAfter('x', 100, 'low'); // earlier timer wins, lane stays normal
  q.addAfter('y', 100, 'low');
  q.add('z', 'low');
  await time.advance(100);
  // x's timer fires first and x (normal) is taken before z (low, added earlier); y's timer fires last.
  assert.deepEqual(runs, ['x', 'z', 'y']);
  await q.shutdown();
});

void test('priority lanes: a steady stream of normal keys does not starve the low lane (one take in lowShare)', async () => {
  const runs: string[] = [];
  const q = new WorkQueue({ concurrency: 1, lowShare: 3, handler: async (k) => { await Promise.resolve(); runs.push(k); } });
  q.add('p0', 'low');
  q.add('p1', 'low');
  for (let i = 0; i < 7; i++) q.add(`n${i}`);
  await settle();
  assert.deepEqual(runs, ['n0', 'n1', 'p0', 'n2', 'n3', 'p1', 'n4', 'n5', 'n6']);
  assert.equal(q.laneLen('low'), 0);
  assert.equal(q.laneLen('normal'), 0);
});
