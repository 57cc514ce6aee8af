import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imagesOf, isWorkloadKind, MAX_CONTAINERS, podSpecOf, WORKLOAD_KINDS } from './workload.ts';

const spec = { initContainers: [{ name: 'i', image: 'a@sha256:' + '1'.repeat(64) }], containers: [{ name: 'c', image: 'b:1' }], ephemeralContainers: [{ name: 'e', image: 'c:1' }] };

void test('every pod template kind is read, with all three container lists', () => {
  const template = { spec: { template: { spec } } };
  for (const kind of WORKLOAD_KINDS) {
    const obj = kind === 'Pod' ? { spec } : kind === 'CronJob' ? { spec: { jobTemplate: template } } : template;
    const got = imagesOf(podSpecOf(kind, obj));
    assert.deepEqual(got.images.map((i) => i.where), ['initContainers[0]', 'containers[0]', 'ephemeralContainers[0]'], kind);
    assert.equal(got.unreadable, undefined);
  }
  assert.ok(isWorkloadKind('ReplicationController'));
});

void test('more containers than the limit, or a malformed list, is reported instead of cut', () => {
  const many = Array.from({ length: MAX_CONTAINERS + 1 }, (_, i) => ({ name: `c${i}`, image: 'x:1' }));
  assert.match(imagesOf({ containers: many }).unreadable ?? '', /513 entries, more than the 512/);
  assert.match(imagesOf({ initContainers: {} as never }).unreadable ?? '', /not a list/);
  assert.match(imagesOf({ containers: [{ name: 'c', image: 5 as never }] }).unreadable ?? '', /not a string/);
  assert.equal(imagesOf({ containers: Array.from({ length: MAX_CONTAINERS }, () => ({ image: 'x:1' })) }).images.length, MAX_CONTAINERS);
});
