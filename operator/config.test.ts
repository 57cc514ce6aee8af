import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config.ts';

test('--per-release-metrics: on by default, off by flag or environment, anything else rejected', () => {
  const env = { POD_NAMESPACE: 'cra-gate' };
  assert.equal(loadConfig([], env).perReleaseMetrics, true);
  assert.equal(loadConfig(['--per-release-metrics=false'], env).perReleaseMetrics, false);
  assert.equal(loadConfig([], { ...env, CRA_GATE_PER_RELEASE_METRICS: 'false' }).perReleaseMetrics, false);
  assert.equal(loadConfig(['--per-release-metrics', 'true'], { ...env, CRA_GATE_PER_RELEASE_METRICS: 'false' }).perReleaseMetrics, true);
  assert.throws(() => loadConfig(['--per-release-metrics=maybe'], env), /invalid per-release-metrics/);
});

test('--watch-configmaps: on by default; the chart\'s rbac.watchConfigMaps=false turns the reference watches off', () => {
  const env = { POD_NAMESPACE: 'cra-gate' };
  assert.equal(loadConfig([], env).watchConfigMaps, true);
  assert.equal(loadConfig([], { ...env, CRA_GATE_WATCH_CONFIGMAPS: 'false' }).watchConfigMaps, false);
  assert.equal(loadConfig(['--watch-configmaps=true'], { ...env, CRA_GATE_WATCH_CONFIGMAPS: 'false' }).watchConfigMaps, true);
  assert.throws(() => loadConfig(['--watch-configmaps=sometimes'], env), /invalid watch-configmaps/);
});

// ---- issue 16: the memory budget from the container's limit ----------------------------------------------

import { memoryBudgetFrom, readCgroupMemoryLimit } from './config.ts';

const MiB = 1024 * 1024;
const files = (m: Record<string, string>) => (p: string) => m[p];

test('cgroup v2: the tightest memory.max of the process\'s cgroup and its ancestors', () => {
  const read = files({
    '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
    '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': 'max\n',
    '/sys/fs/cgroup/kubepods/pod1/memory.max': '536870912\n',
    '/sys/fs/cgroup/kubepods/memory.max': '8589934592\n',
  });
  assert.deepEqual(readCgroupMemoryLimit(read), { bytes: 512 * MiB, source: 'cgroup-v2' });
  // A cgroup namespace: the container sees its own cgroup as the root.
  assert.deepEqual(readCgroupMemoryLimit(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': '268435456' })), { bytes: 256 * MiB, source: 'cgroup-v2' });
});

test('cgroup v1: memory.limit_in_bytes; the page-rounded 2^63 means no limit', () => {
  const self = '9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n';
  assert.deepEqual(
    readCgroupMemoryLimit(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes': '1073741824\n', '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' })),
    { bytes: 1024 * MiB, source: 'cgroup-v1' },
  );
  assert.equal(readCgroupMemoryLimit(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n' })), undefined);
  assert.equal(readCgroupMemoryLimit(files({})), undefined);
});

test('memoryBudgetFrom: a declared limit (the chart\'s downward API) counts when tighter; junk is rejected', () => {
  const v1 = files({ '/proc/self/cgroup': '4:memory:/x\n', '/sys/fs/cgroup/memory/x/memory.limit_in_bytes': String(1024 * MiB) });
  assert.equal(memoryBudgetFrom(undefined, v1, 400 * MiB).limitSource, 'cgroup-v1');
  const declared = memoryBudgetFrom('512Mi', v1, 200 * MiB);
  assert.deepEqual([declared.limitSource, declared.limitBytes], ['declared', 512 * MiB]);
  assert.equal(memoryBudgetFrom('2Gi', v1, 400 * MiB).limitSource, 'cgroup-v1');
  assert.equal(memoryBudgetFrom(undefined, files({}), 400 * MiB).limitSource, 'none');
  assert.throws(() => memoryBudgetFrom('lots', v1), /invalid memory limit/);
  assert.equal(loadConfig(['--memory-limit=768Mi'], { POD_NAMESPACE: 'x' }).memory.limitBytes! <= 768 * MiB, true);
});

test('the environment is parsed here once: network settings, feed refresh, waiver warning window', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cra-gate-config-'));
  try {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const env = { POD_NAMESPACE: 'cra-gate' };
    const d = loadConfig([], env);
    assert.deepEqual(d.network, { http: { allowHosts: [] }, registry: { allowHosts: [], insecureHosts: [] } });
    assert.equal(d.feedRefreshMs, 3600_000);
    assert.equal(d.waiverWarnDays, 7);
    const c = loadConfig([], {
      ...env,
      CRA_GATE_HTTP_ALLOW_HOSTS: 'mirror.local:8443, 10.0.0.5',
      CRA_GATE_HTTP_CA_FILE: ca,
      CRA_GATE_REGISTRY_INSECURE_HOSTS: 'lab:5000',
      CRA_GATE_REGISTRY_TIMEOUT_MS: '5000',
      CRA_GATE_FEED_REFRESH_SECONDS: '2',
      CRA_GATE_WAIVER_WARN_DAYS: '14',
    });
    assert.deepEqual(c.network.http.allowHosts, ['mirror.local:8443', '10.0.0.5']);
    assert.match(String(c.network.http.ca), /BEGIN CERTIFICATE/);
    // The registry falls back to the HTTP allow-list and CA unless it has its own.
    assert.deepEqual(c.network.registry, { allowHosts: ['mirror.local:8443', '10.0.0.5'], insecureHosts: ['lab:5000'], ca: c.network.http.ca, timeoutMs: 5000 });
    assert.deepEqual(loadConfig([], { ...env, CRA_GATE_HTTP_ALLOW_HOSTS: 'a', CRA_GATE_REGISTRY_ALLOW_HOSTS: 'b' }).network.registry.allowHosts, ['b']);
    assert.equal(c.feedRefreshMs, 2000);
    assert.equal(c.waiverWarnDays, 14);
    // Wrong values stop the start with a message naming the variable (they are no longer ignored deep inside).
    assert.throws(() => loadConfig([], { ...env, CRA_GATE_HTTP_CA_FILE: join(dir, 'missing.pem') }), /CRA_GATE_HTTP_CA_FILE: cannot read/);
    assert.throws(() => loadConfig([], { ...env, CRA_GATE_REGISTRY_TIMEOUT_MS: 'soon' }), /invalid CRA_GATE_REGISTRY_TIMEOUT_MS/);
    assert.throws(() => loadConfig([], { ...env, CRA_GATE_FEED_REFRESH_SECONDS: '0' }), /invalid CRA_GATE_FEED_REFRESH_SECONDS/);
    assert.throws(() => loadConfig([], { ...env, CRA_GATE_WAIVER_WARN_DAYS: 'x' }), /invalid CRA_GATE_WAIVER_WARN_DAYS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
