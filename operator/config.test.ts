import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.ts';

test('--per-release-metrics: on by default, off by flag or environment, anything else rejected', () => {
  const env = { POD_NAMESPACE: 'cra-gate' };
  assert.equal(loadConfig([], env).perReleaseMetrics, true);
  assert.equal(loadConfig(['--per-release-metrics=false'], env).perReleaseMetrics, false);
  assert.equal(loadConfig([], { ...env, CRA_GATE_PER_RELEASE_METRICS: 'false' }).perReleaseMetrics, false);
  assert.equal(loadConfig(['--per-release-metrics', 'true'], { ...env, CRA_GATE_PER_RELEASE_METRICS: 'false' }).perReleaseMetrics, true);
  assert.throws(() => loadConfig(['--per-release-metrics=maybe'], env), /invalid per-release-metrics/);
});
