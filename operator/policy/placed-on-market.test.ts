import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import type { SignatureEvidence } from '../evidence/signatures.ts';
import { release } from '../checks/testkit.ts';
import type { ProductRelease } from '../checks/api.ts';
import { checkPlacedOnMarket, toleranceDays } from './placed-on-market.ts';

const cdx = (timestamp: string): SbomEvidence => ({
  artifact: 'fw',
  source: 'ConfigMap acme/fw-sbom',
  analysis: analyzeSbom(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', metadata: { timestamp, component: { type: 'firmware', name: 'fw', version: '1.0.0', 'bom-ref': 'fw' } }, components: [] })),
});
const spdx = (created: string): SbomEvidence => ({
  artifact: 'app',
  source: 'spdx',
  analysis: analyzeSbom(JSON.stringify({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'x', documentNamespace: 'https://acme.example/spdx/x', creationInfo: { created, creators: ['Organization: ACME'] }, packages: [{ SPDXID: 'SPDXRef-p', name: 'p', versionInfo: '1', downloadLocation: 'NOASSERTION' }], documentDescribes: ['SPDXRef-p'] })),
});
const sig = (signedAt?: string): SignatureEvidence => ({ artifact: 'fw', subject: 'registry.acme.example/fw@sha256:x', verified: [{ signer: 'key acme', kind: 'key', source: 'bundle', ...(signedAt ? { signedAt } : {}) }], rejected: [], rejectedAttestations: [] });
const rel = (placedOnMarket: string, creationTimestamp?: string): ProductRelease => {
  const r = release({ placedOnMarket });
  // as it arrives from the API server (JSON): a string, although the client library types it Date
  return { ...r, metadata: { ...r.metadata, ...(creationTimestamp ? { creationTimestamp: creationTimestamp as unknown as Date } : {}) } };
};

describe('placedOnMarket vs evidence times', () => {
  it('SBOM timestamp (CycloneDX and SPDX): the same day is fine, the next day contradicts', () => {
    assert.equal(checkPlacedOnMarket(rel('2028-01-15'), { sboms: [cdx('2028-01-15T23:59:59Z')] }).contradictions.length, 0);
    const c = checkPlacedOnMarket(rel('2028-01-15'), { sboms: [cdx('2028-01-16T00:00:00Z')] }).contradictions;
    assert.equal(c.length, 1);
    assert.equal(c[0]!.pointer, '/sboms/fw/metadata/timestamp');
    assert.match(c[0]!.message, /placedOnMarket 2028-01-15 is before the SBOM timestamp \(ConfigMap acme\/fw-sbom\) 2028-01-16T00:00:00.000Z/);
    const s = checkPlacedOnMarket(rel('2025-01-01'), { sboms: [spdx('2027-03-01T10:00:00Z')] }).contradictions;
    assert.equal(s[0]?.pointer, '/sboms/app/creationInfo/created');
  });

  it('signature log time and creationTimestamp', () => {
    const attestation = { ...sig(), attested: [{ signer: 'key acme', kind: 'key' as const, source: 'att', signedAt: '2026-10-01T00:00:00Z' }] };
    const c = checkPlacedOnMarket(rel('2025-01-01', '2026-12-01T08:00:00Z'), { signatures: [sig('2026-11-30T10:00:00Z'), attestation] }).contradictions;
    assert.deepEqual(c.map((x) => x.pointer), ['/metadata/creationTimestamp', '/signatures/fw/verified/0', '/signatures/fw/attested/0']);
    assert.match(c[2]!.message, /before the SBOM attestation by key acme logged 2026-10-01/);
    // a future placedOnMarket (the usual case: the gate runs before the release ships) is consistent
    const ok = checkPlacedOnMarket(rel('2028-01-15', '2026-12-01T08:00:00Z'), { sboms: [cdx('2026-11-30T00:00:00Z')], signatures: [sig('2026-11-30T10:00:00Z')] });
    assert.deepEqual([ok.compared, ok.contradictions.length], [2, 0], 'creationTimestamp is compared but not counted (the offline CLI has none)');
  });

  it('tolerance in days; unparseable times are not compared; invalid placedOnMarket: nothing to contradict', () => {
    assert.equal(checkPlacedOnMarket(rel('2028-01-15'), { sboms: [cdx('2028-01-20T12:00:00Z')] }, 5).contradictions.length, 0);
    assert.match(checkPlacedOnMarket(rel('2028-01-15'), { sboms: [cdx('2028-01-21T00:00:00Z')] }, 5).contradictions[0]!.message, /beyond the tolerance of 5 day/);
    assert.equal(checkPlacedOnMarket(rel('2028-01-15'), { sboms: [cdx('yesterday')] }).compared, 0);
    assert.equal(checkPlacedOnMarket(rel('2028-02-30'), { sboms: [cdx('2029-01-01T00:00:00Z')] }).contradictions.length, 0);
  });

  it('tolerance param validation', () => {
    assert.equal(toleranceDays(undefined), 0);
    assert.equal(toleranceDays(7), 7);
    for (const bad of [-1, 1.5, '3', null, 3651]) assert.equal(toleranceDays(bad), undefined, String(bad));
  });
});
