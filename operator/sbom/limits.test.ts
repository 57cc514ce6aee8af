/**
 * Issue #13 item 13: the SBOM size limit is a policy parameter (ReleasePolicy spec.limits.sbomMaxBytes), bounded
 * by a hard ceiling from the analysis worker's heap, and every SbomTooLarge names the field that raises it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSbom } from './analyze.ts';
import { ANALYSIS_BYTES_PER_BYTE, DEFAULT_LIMITS, SBOM_MAX_BYTES_CEILING, WORKER_HEAP_MB, limitsForPolicy } from './parse.ts';
import { makeSbomCollector } from '../evidence/sbom.ts';
import { collectEvidence } from '../evidence/collect.ts';
import { createEvidenceRuntime } from '../evidence/runtime.ts';
import { validatePolicySpec } from '../policy/validate.ts';
import { runSbomCheck } from '../cli/sbom.ts';
import { goodRelease } from '../checks/testkit.ts';
import type { ReleasePolicy } from '../api/types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const compliantPath = join(root, 'test', 'fixtures', 'sbom', 'handmade', 'compliant.cdx.json');
const compliant = readFileSync(compliantPath);

test('the ceiling follows from the worker heap and the measured memory per byte (128 MiB), above a 75 MB SBOM', () => {
  assert.equal(SBOM_MAX_BYTES_CEILING, Math.floor((WORKER_HEAP_MB * 1024 * 1024) / ANALYSIS_BYTES_PER_BYTE));
  assert.equal(SBOM_MAX_BYTES_CEILING, 128 * 1024 * 1024);
  assert.equal(DEFAULT_LIMITS.maxBytes, 64 * 1024 * 1024);
  // A 75 MB document can be admitted by raising the parameter.
  assert.equal(limitsForPolicy({ limits: { sbomMaxBytes: 75_000_000 } }).maxBytes, 75_000_000);
});

test('limitsForPolicy: absent or unusable values keep the default; nothing goes above the ceiling', () => {
  assert.equal(limitsForPolicy(undefined).maxBytes, DEFAULT_LIMITS.maxBytes);
  assert.equal(limitsForPolicy({ checks: [] }).maxBytes, DEFAULT_LIMITS.maxBytes);
  for (const bad of ['75000000', 1.5e3 + 0.5, -1, 0, 100, Number.NaN, Infinity, null]) {
    assert.equal(limitsForPolicy({ limits: { sbomMaxBytes: bad } }).maxBytes, DEFAULT_LIMITS.maxBytes, String(bad));
  }
  assert.equal(limitsForPolicy({ limits: { sbomMaxBytes: 10 * SBOM_MAX_BYTES_CEILING } }).maxBytes, SBOM_MAX_BYTES_CEILING);
  // Other limits are untouched.
  assert.equal(limitsForPolicy({ limits: { sbomMaxBytes: 4096 } }).maxDepth, DEFAULT_LIMITS.maxDepth);
});

test('validatePolicySpec rejects a limit that is not an integer from 1024 to the ceiling, naming the field', () => {
  const checks = [{ id: 'sbom.present' }];
  assert.deepEqual(validatePolicySpec({ checks, limits: { sbomMaxBytes: 100_000_000 } }), []);
  for (const bad of [SBOM_MAX_BYTES_CEILING + 1, 512, 1.5, '64Mi']) {
    const p = validatePolicySpec({ checks, limits: { sbomMaxBytes: bad } });
    assert.equal(p.length, 1, String(bad));
    assert.match(p[0]!, /^spec\.limits\.sbomMaxBytes: .* not an integer from 1024 to 134217728/);
  }
  assert.deepEqual(validatePolicySpec({ checks, limits: 'big' }), ['spec.limits: must be an object']);
});

test('SbomTooLarge names the parameter that raises the limit (and says when it is at its ceiling)', () => {
  const small = analyzeSbom(compliant, { ...DEFAULT_LIMITS, maxBytes: 1024 });
  assert.equal(small.ok, false);
  assert.equal(!small.ok && small.reason, 'SbomTooLarge');
  assert.match(!small.ok ? small.message : '', /above the limit of 1024 bytes \(raise it with ReleasePolicy spec\.limits\.sbomMaxBytes, at most 134217728\)/);
  const atCeiling = analyzeSbom('x'.repeat(10), { ...DEFAULT_LIMITS, maxBytes: SBOM_MAX_BYTES_CEILING });
  assert.equal(atCeiling.ok, false); // not JSON, but within the limit
  assert.notEqual(!atCeiling.ok && atCeiling.reason, 'SbomTooLarge');
});

const policy = (sbomMaxBytes?: number): ReleasePolicy => ({
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ReleasePolicy',
  metadata: { name: 'p' },
  spec: { checks: [{ id: 'sbom.present', enforcement: 'Block' }], ...(sbomMaxBytes ? { limits: { sbomMaxBytes } } : {}) },
});

test('the collector applies the policy\'s limit: the same document is too large under one policy and read under another', async () => {
  const release = goodRelease({ sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw-sbom', key: 'bom.json' } }] });
  const sources = { readConfigMap: () => Promise.resolve({ 'bom.json': compliant.toString('utf8') }) };
  const collector = makeSbomCollector();
  const runtime = createEvidenceRuntime({ network: 'deny' });
  const tight = await collectEvidence({ release, policy: policy(2048), sources, runtime, now: new Date() }, [collector]);
  const a = tight.sboms?.[0]?.analysis;
  assert.ok(a && !a.ok && 'reason' in a);
  assert.equal(a.reason, 'SbomTooLarge');
  assert.match(a.message, /spec\.limits\.sbomMaxBytes/);
  // Same bytes (cached analysis keyed by limit too), default policy: read.
  const roomy = await collectEvidence({ release, policy: policy(), sources, runtime, now: new Date() }, [collector]);
  assert.equal(roomy.sboms?.[0]?.analysis.ok, true);
  const again = await collectEvidence({ release, policy: policy(2048), sources, runtime, now: new Date() }, [collector]);
  assert.equal(again.sboms?.[0]?.analysis.ok, false);
});

test('cra-gate sbom check --max-bytes: bounded by the ceiling; the error names the flag', async () => {
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
  assert.equal(await runSbomCheck(['check', compliantPath, '--max-bytes', '1024'], io), 2);
  assert.match(err, /SbomTooLarge: document is \d+ bytes, above the limit of 1024 bytes \(raise it with --max-bytes, at most 134217728\)/);
  err = '';
  assert.equal(await runSbomCheck(['check', compliantPath, '--max-bytes', String(SBOM_MAX_BYTES_CEILING + 1)], io), 2);
  assert.match(err, /--max-bytes must be an integer from 1024 to 134217728/);
  assert.equal(await runSbomCheck(['check', compliantPath, '--max-bytes', '1048576'], io), 0, out);
});
