import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIN_WORKER_HEAP_MB,
  RESULT_BYTES_PER_COMPONENT,
  admitOnMainHeap,
  resultBytesEstimate,
  PROCESS_OVERHEAD_MB,
  UNLIMITED_WORKER_HEAP_MB,
  WORKER_RSS_PER_HEAP_MB,
  deriveMemoryBudget,
  marginMbFor,
  parseCgroupLimit,
  parseMemoryQuantity,
} from './memory-budget.ts';

const MiB = 1024 * 1024;

test('budget table: container limit + main heap → SBOM workers × heap, never above the limit', () => {
  // [limit MiB, main heap MiB] → [workers, worker heap MiB]
  const table: [number, number, number, number][] = [
    [256, 128, 0, 0], // 256 - 128 - 80 - 32 = 16: one worker would get 8 MiB, below the minimum
    [384, 192, 1, 40], // 384 - 192 - 80 - 32 = 80 → one worker of 80 / 2
    [512, 205, 1, 97], // 512 with the image's 40 %: 195 left → one worker of 97 MiB
    [768, 307, 1, 171], // 342 left: two workers would get 85 MiB each, below the two-worker minimum
    [1024, 410, 1, 241],
    [2048, 819, 2, 261], // 1046 left → 2 × 2 × 261
    [16384, 4096, 2, UNLIMITED_WORKER_HEAP_MB], // capped at today's worker heap
  ];
  for (const [limitMb, heapMb, workers, workerHeapMb] of table) {
    const b = deriveMemoryBudget(limitMb * MiB, heapMb * MiB, 'cgroup-v1');
    assert.equal(b.workers, workers, `${limitMb} MiB: workers (${b.summary})`);
    assert.equal(b.workerHeapMb, workerHeapMb, `${limitMb} MiB: worker heap (${b.summary})`);
    assert.equal(b.mainHeapMb, heapMb);
    assert.equal(b.marginMb, marginMbFor(limitMb));
    // The invariant: everything that can grow has a cap, and the caps add up to at most the limit.
    const total = heapMb + PROCESS_OVERHEAD_MB + b.marginMb + b.workers * b.workerHeapMb * WORKER_RSS_PER_HEAP_MB;
    assert.ok(total <= limitMb, `${limitMb} MiB: ${total} MiB of caps`);
    if (b.workers === 2) assert.ok(b.workerHeapMb >= MIN_WORKER_HEAP_MB);
    assert.match(b.summary, new RegExp(`limit ${limitMb} MiB \\(cgroup-v1\\)`));
  }
});

test('no limit ("max", huge, absent): the documented defaults', () => {
  for (const limit of [undefined, 0, -1, 2 ** 63, Number.POSITIVE_INFINITY, Number.NaN]) {
    const b = deriveMemoryBudget(limit, 4288 * MiB, 'cgroup-v1');
    assert.deepEqual([b.limitBytes, b.limitSource, b.workers, b.workerHeapMb], [undefined, 'none', 2, UNLIMITED_WORKER_HEAP_MB], String(limit));
    assert.match(b.summary, /no container memory limit/);
  }
});

test('parseCgroupLimit: bytes; "max", v1\'s page-rounded 2^63 and junk mean no limit', () => {
  assert.equal(parseCgroupLimit('536870912\n'), 536870912);
  assert.equal(parseCgroupLimit('max\n'), undefined);
  assert.equal(parseCgroupLimit('9223372036854771712\n'), undefined);
  assert.equal(parseCgroupLimit(''), undefined);
  assert.equal(parseCgroupLimit(undefined), undefined);
  assert.equal(parseCgroupLimit('-1'), undefined);
  assert.equal(parseCgroupLimit('12abc'), undefined);
});

test('parseMemoryQuantity: Kubernetes quantities and plain bytes', () => {
  assert.equal(parseMemoryQuantity('536870912'), 512 * MiB);
  assert.equal(parseMemoryQuantity('512Mi'), 512 * MiB);
  assert.equal(parseMemoryQuantity('1Gi'), 1024 * MiB);
  assert.equal(parseMemoryQuantity('1.5Gi'), 1536 * MiB);
  assert.equal(parseMemoryQuantity('1G'), 1e9);
  for (const bad of ['', 'lots', '-5', '5 Mi', '0']) assert.equal(parseMemoryQuantity(bad), undefined, bad);
});

test('admitOnMainHeap: admitted while limit − used − 10 % reserve − in flight covers the need; otherwise transient, or terminal when it can never fit', () => {
  const heap = { usedBytes: 200 * MiB, limitBytes: 372 * MiB }; // reserve: 37.2 MiB → room 134.8 MiB
  assert.deepEqual(admitOnMainHeap(heap, 30 * MiB, 0), { admitted: true, needBytes: 30 * MiB });
  assert.equal(admitOnMainHeap(heap, 134 * MiB, 0).admitted, true);
  // Two analyses in flight take their share: the third waits (transient), naming every number.
  const busy = admitOnMainHeap(heap, 30 * MiB, 110 * MiB);
  assert.equal(busy.admitted, false);
  assert.equal(!busy.admitted && busy.transient, true);
  assert.equal(
    !busy.admitted && busy.message,
    "not analysed now: its result needs about 30 MiB of the operator's main heap, which has 25 MiB free (limit 372 MiB, used 200 MiB, reserve 38 MiB, analyses in flight 110 MiB); retried",
  );
  // Never fits, whatever the heap holds: terminal, with the remedy.
  const never = admitOnMainHeap(heap, 340 * MiB, 0);
  assert.equal(!never.admitted && never.transient, false);
  assert.match(!never.admitted ? never.message : '', /more than the 335 MiB it can ever give \(heap limit 372 MiB − reserve 38 MiB\); raise the operator's memory limit/);
  // Garbage in, refusal out (fail closed).
  assert.equal(admitOnMainHeap(heap, Number.NaN, 0).admitted, false);
  assert.equal(admitOnMainHeap(heap, -1, 0).admitted, false);
});

test('resultBytesEstimate: per component plus its identity strings twice (the clone and the kept copy)', () => {
  assert.equal(resultBytesEstimate(0, 0), 0);
  assert.equal(resultBytesEstimate(55_541, 55_541 * 73), 55_541 * (RESULT_BYTES_PER_COMPONENT + 146));
});
