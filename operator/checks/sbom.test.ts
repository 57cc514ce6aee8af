import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { makeSbomCollector } from '../evidence/sbom.ts';
import { collectEvidence } from '../evidence/collect.ts';
import { createEvidenceRuntime } from '../evidence/runtime.ts';
import { checkRegistry } from './index.ts';
import { ctx, goodRelease } from './testkit.ts';
import type { Evidence } from './types.ts';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'sbom', 'handmade');
const read = (n: string) => readFileSync(join(fx, n));
const H512 = 'a'.repeat(128);
const rel = (extra = {}) =>
  goodRelease({
    artifacts: [{ name: 'firmware', url: 'https://downloads.acme.example/router/2.4.0/fw.bin', digest: `sha512:${H512}` }],
    sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw-sbom', key: 'bom.json' } }],
    ...extra,
  });
const ev = (file: string, artifact = 'firmware'): Evidence => ({
  sboms: [{ artifact, source: 'ConfigMap acme/fw-sbom key bom.json', specPointer: '/spec/sboms/0', analysis: analyzeSbom(read(file)) } satisfies SbomEvidence],
});
const run = (id: string, e: Evidence, params = {}, r = rel()) => checkRegistry.get(id)!.run(ctx(r, params, undefined, e));
const SBOM_IDS = ['sbom.present', 'sbom.format-valid', 'sbom.format-version', 'sbom.bsi-tr-03183-fields', 'sbom.top-level-deps', 'sbom.complete', 'sbom.licence-ids', 'sbom.no-vuln-data', 'sbom.per-version', 'artifact.hash-matches-sbom'];

test('a compliant SBOM passes every SBOM check, and each outcome names the SBOM digest', () => {
  const e = ev('compliant.cdx.json');
  for (const id of SBOM_IDS) {
    const o = run(id, e);
    assert.equal(o.result, 'Pass', `${id}: ${o.message}`);
    assert.match(o.evidence ?? '', /^sha256:[0-9a-f]{64}$/);
  }
});

test('findings carry pointer and count; the message summarises', () => {
  const o = run('sbom.bsi-tr-03183-fields', ev('missing-component-creator.cdx.json'));
  assert.equal(o.result, 'Fail');
  assert.equal(o.reason, 'MissingComponentCreator');
  assert.equal(o.findings?.[0]?.pointer, '/components/0');
  assert.equal(o.findings?.[0]?.count, 2);
  assert.match(o.message, /^2 of 3 components lack a creator email or URL \(first: \/components\/0, \/components\/1\)$/);
});

test('profile param: bsi-2.0 accepts CycloneDX 1.5, bsi-2.1 does not; an unknown profile is InvalidCheckParams', () => {
  const e = ev('old-version.cdx.json');
  assert.equal(run('sbom.format-version', e).reason, 'SbomFormatTooOld');
  assert.equal(run('sbom.format-version', e, { profile: 'bsi-2.0' }).result, 'Pass');
  assert.equal(run('sbom.format-version', e, { profile: 'x' }).reason, 'InvalidCheckParams');
  // The CRA text asks for a commonly used, machine-readable format, not a version: schema-valid 1.5 passes.
  assert.equal(run('sbom.format-valid', e).result, 'Pass');
  assert.equal(run('sbom.bsi-tr-03183-fields', ev('ntia-missing.cdx.json'), { profile: 'ntia' }).reason, 'MissingSupplier');
});

test('fail closed: no evidence collected, unusable SBOM, unreadable source', () => {
  assert.equal(run('sbom.format-valid', {}).result, 'Error');
  assert.equal(run('sbom.format-valid', {}).reason, 'EvidenceUnavailable');
  const trunc = run('sbom.complete', ev('truncated.cdx.json'));
  assert.equal(trunc.result, 'Fail');
  assert.equal(trunc.reason, 'SbomUnparseable');
  const xml = run('sbom.present', ev('xml-unknown-version.cdx.xml'));
  assert.equal(xml.reason, 'SbomFormatUnsupported');
  const unavailable: Evidence = { sboms: [{ artifact: 'firmware', source: 'x', analysis: { ok: false, unavailable: true, reason: 'EvidenceUnavailable', message: 'ConfigMap acme/fw-sbom not found' } }] };
  for (const id of SBOM_IDS) assert.equal(run(id, unavailable).result, 'Error', id);
  // A release without SBOMs or artifacts fails, never passes.
  const bare = goodRelease();
  assert.equal(run('sbom.present', { sboms: [] }, {}, bare).result, 'Fail');
  assert.equal(run('sbom.format-valid', {}, {}, bare).reason, 'SbomMissing');
  assert.equal(run('artifact.hash-matches-sbom', {}, {}, bare).reason, 'ArtifactHashUnavailable');
});

test('sbom.per-version and sbom.present compare with the release', () => {
  const e = ev('compliant.cdx.json');
  const other = rel({ version: '2.5.0' });
  assert.equal(run('sbom.per-version', e, {}, other).reason, 'SbomVersionMismatch');
  assert.equal(run('sbom.present', ev('compliant.cdx.json', 'router')).reason, 'SbomMissing');
  const renamed = rel({ artifacts: [{ name: 'camera', url: 'https://downloads.acme.example/cam.bin', digest: `sha512:${'f'.repeat(128)}` }], sboms: [{ artifact: 'camera', configMapRef: { name: 'x', key: 'y' } }] });
  assert.equal(run('sbom.present', ev('compliant.cdx.json', 'camera'), {}, renamed).reason, 'SbomComponentMismatch');
});

test('artifact.hash-matches-sbom: mismatch, missing algorithm, missing digest', () => {
  const e = ev('compliant.cdx.json');
  const wrong = rel({ artifacts: [{ name: 'firmware', url: 'https://d.acme.example/fw.bin', digest: `sha512:${'b'.repeat(128)}` }] });
  const o = run('artifact.hash-matches-sbom', e, {}, wrong);
  assert.equal(o.reason, 'ArtifactHashMismatch');
  assert.equal(o.findings?.[0]?.pointer, '/metadata/component/hashes/0');
  const sha256 = rel({ artifacts: [{ name: 'firmware', url: 'https://d.acme.example/fw.bin', digest: `sha256:${'a'.repeat(64)}` }] });
  assert.equal(run('artifact.hash-matches-sbom', e, {}, sha256).reason, 'ArtifactHashUnavailable');
  const none = rel({ artifacts: [{ name: 'firmware', url: 'https://d.acme.example/fw.bin' }] });
  assert.equal(run('artifact.hash-matches-sbom', e, {}, none).reason, 'ArtifactHashUnavailable');
});

test('artifact.hash-matches-sbom: an image SBOM bound by its verified attestation subject; another digest fails', () => {
  const D = `sha256:${'c'.repeat(64)}`;
  const image = rel({ artifacts: [{ name: 'firmware', image: `registry.acme.example/fw@${D}` }], sboms: [] });
  // The attested SBOM's primary component carries no hash of the image (an SBOM generated from the sources).
  const attested = (boundDigest?: string): Evidence => ({
    sboms: [{ artifact: 'firmware', source: 'attestation https://cyclonedx.org/bom signed by key', ...(boundDigest ? { boundDigest } : {}), analysis: analyzeSbom(read('compliant.cdx.json')) }],
  });
  const ok = run('artifact.hash-matches-sbom', attested(D), {}, image);
  assert.equal(ok.result, 'Pass', ok.message);
  assert.match(ok.message, /1 artifact digest\(s\) equal the SBOM hashes \(bound by the signed attestation subject\)/);
  const other = run('artifact.hash-matches-sbom', attested(`sha256:${'d'.repeat(64)}`), {}, image);
  assert.equal(other.result, 'Fail');
  assert.equal(other.reason, 'ArtifactHashMismatch');
  assert.equal(other.findings?.[0]?.pointer, '/spec/artifacts/0/image');
  // Without the binding the document itself must carry the digest: it does not (sha512 only) ⇒ Fail, not Pass.
  assert.equal(run('artifact.hash-matches-sbom', attested(), {}, image).reason, 'ArtifactHashUnavailable');
  // A tag-only image declares no digest to compare with, however the SBOM is bound.
  const tagged = rel({ artifacts: [{ name: 'firmware', image: 'registry.acme.example/fw:1.0' }], sboms: [] });
  assert.equal(run('artifact.hash-matches-sbom', attested(D), {}, tagged).reason, 'ArtifactHashUnavailable');
});

test('not assessed is not missing: an image whose registry could not be read (or trust not loaded) is Error, not SbomMissing', () => {
  const image = rel({ artifacts: [{ name: 'operator', image: `registry.acme.example/op@sha256:${'e'.repeat(64)}` }], sboms: [] });
  const sig = (error?: { reason: 'EvidenceUnavailable'; message: string }) => ({ artifact: 'operator', subject: 'registry.acme.example/op', verified: [], rejected: [], rejectedAttestations: [], ...(error ? { error } : {}) });
  const down: Evidence = { sboms: [], signatures: [sig({ reason: 'EvidenceUnavailable', message: 'registry.acme.example not fetched (--offline)' })] };
  for (const id of ['sbom.present', 'sbom.format-valid', 'sbom.top-level-deps', 'sbom.per-version', 'artifact.hash-matches-sbom']) {
    const o = run(id, down, {}, image);
    assert.equal(o.result, 'Error', `${id}: ${o.message}`);
    assert.equal(o.reason, 'EvidenceUnavailable', id);
    assert.match(o.message, /registry could not be read .*not fetched \(--offline\)/, id);
  }
  const noTrust: Evidence = { sboms: [], signingConfigError: { reason: 'SigningConfigInvalid', message: 'Secret cra-gate/keys not found' } };
  assert.match(run('sbom.present', noTrust, {}, image).message, /signing configuration could not be loaded .*could not be verified/);
  // The registry was read and verified: no SBOM there is a finding (Fail), as before.
  const read: Evidence = { sboms: [], signatures: [sig()] };
  assert.equal(run('sbom.present', read, {}, image).reason, 'SbomMissing');
  const untrusted: Evidence = { sboms: [], signatures: [{ ...sig(), rejectedAttestations: [{ signer: 'key 1234', reason: 'UntrustedSigner', message: 'not signed by a trusted key', source: 'referrer' }] }] };
  assert.match(run('sbom.present', untrusted, {}, image).message, /^artifact operator has no SBOM \(1 SBOM attestation\(s\) rejected: UntrustedSigner, not signed by a trusted key\)$/);
  assert.equal(run('sbom.format-valid', read, {}, image).reason, 'SbomMissing');
});

test('collector: ConfigMap source, declared digest, missing ConfigMap; worker for large documents', async () => {
  const compliant = read('compliant.cdx.json').toString('utf8');
  const maps: Record<string, Record<string, string>> = { 'acme/fw-sbom': { 'bom.json': compliant } };
  const sources = { readConfigMap: (ns: string, name: string) => Promise.resolve(maps[`${ns}/${name}`]) };
  const collector = makeSbomCollector();
  const runtime = createEvidenceRuntime({ network: 'deny', sbom: { workerThresholdBytes: 1 } }); // force the worker path
  const e = await collectEvidence({ release: rel(), policy: undefined, sources, runtime, now: new Date() }, [collector]);
  assert.equal(e.sboms?.length, 1);
  assert.equal(e.sboms?.[0]?.analysis.ok, true);
  assert.equal(run('sbom.bsi-tr-03183-fields', e).result, 'Pass');
  const badDigest = rel({ sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw-sbom', key: 'bom.json' }, digest: `sha256:${'0'.repeat(64)}` }] });
  const e2 = await collectEvidence({ release: badDigest, policy: undefined, sources, runtime, now: new Date() }, [collector]);
  assert.equal(run('sbom.format-valid', e2, {}, badDigest).reason, 'SbomDigestMismatch');
  const missing = rel({ sboms: [{ artifact: 'firmware', configMapRef: { name: 'nope', key: 'bom.json' } }] });
  const e3 = await collectEvidence({ release: missing, policy: undefined, sources, runtime, now: new Date() }, [collector]);
  assert.equal(run('sbom.present', e3, {}, missing).result, 'Error');
});
