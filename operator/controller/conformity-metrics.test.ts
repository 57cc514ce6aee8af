import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerConformityMetrics } from './conformity-metrics.ts';
import type { ProductRelease } from '../api/types.ts';

const rel = (status: ProductRelease['status']): ProductRelease => ({ apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name: 'r' }, spec: { product: { name: 'p' }, version: '1' }, ...(status ? { status } : {}) });

void test('releases by product class, procedure and decision; unknown values fold into "none"', async () => {
  const registry = new Registry();
  const releases = [
    rel({ decision: 'Approved', conformity: { category: 'router-modem-switch', productClass: 'important-class-i', module: 'A' } }),
    rel({ decision: 'Approved', conformity: { category: 'router-modem-switch', productClass: 'important-class-i', module: 'A' } }),
    rel({ decision: 'Blocked', conformity: { category: 'firewall-ids-ips', productClass: 'important-class-ii', module: 'Z' } }),
    rel(undefined),
  ];
  registerConformityMetrics(registry, () => releases);
  const text = await registry.metrics();
  assert.match(text, /cra_gate_releases_by_conformity\{product_class="important-class-i",module="A",decision="Approved"\} 2/);
  assert.match(text, /cra_gate_releases_by_conformity\{product_class="important-class-ii",module="none",decision="Blocked"\} 1/);
  assert.match(text, /cra_gate_releases_by_conformity\{product_class="none",module="none",decision="Pending"\} 1/);
  releases.splice(0, 2);
  assert.doesNotMatch(await registry.metrics(), /module="A"/, 'series of releases that are gone disappear');
});
