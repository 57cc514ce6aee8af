import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ReleasePolicy, Waiver } from '../api/types.ts';
import { evaluate } from '../engine/evaluate.ts';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { parseVex } from '../vex/parse.ts';
import type { VulnFeedsEvidence } from '../vuln/evidence.ts';
import { parseKev } from '../vuln/kev.ts';
import { OsvIndex } from '../vuln/match.ts';
import { NvdIndex, parseNvdFeed } from '../vuln/nvd.ts';
import { parseOsvFeed } from '../vuln/osv.ts';
import { disclosureCvdPolicy, disclosureSecurityTxt, documentListsVersion, updateChannelProbe } from './disclosure-web.ts';
import { goodRelease, ctx } from './testkit.ts';
import type { Evidence } from './types.ts';
import { vulnNoKnownExploitable, vulnNoKnownExploited } from './vuln.ts';

const FX = new URL('../../test/fixtures/vuln/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));
const records = ['GHSA-6fc8-4gx4-v693', 'GHSA-f8q6-p94x-37v3', 'GHSA-jfh8-c2jp-5v3q', 'GHSA-xvch-5gv4-984h'].flatMap((id) => parseOsvFeed(read(`osv/${id}.json`)));
const kevWith = parseKev(read('kev/kev-subset-with-log4shell.json'));
const kevWithout = parseKev(read('kev/kev-subset-without-log4shell.json'));
const sbom = (file: string): SbomEvidence => ({ artifact: 'app', source: file, analysis: analyzeSbom(read(`sbom/${file}`)) });
const NOW = new Date('2028-02-01T00:00:00Z');

function feeds(kev = kevWith, vex: VulnFeedsEvidence['vexSet']['documents'] = []): VulnFeedsEvidence {
  return {
    feeds: [
      { kind: 'osv', source: 'ConfigMap cra-gate/osv', digest: 'sha256:a', records: records.length },
      { kind: 'kev', source: 'ConfigMap cra-gate/kev', digest: 'sha256:b', records: kev.entries.size },
    ],
    index: new OsvIndex(records),
    kev: [kev],
    vex: vex.map((d) => ({ source: d.source, format: d.doc.format, statements: d.doc.statements.length, problems: d.doc.problems })),
    vexSet: { documents: vex },
  };
}

function policy(waivers: Waiver[] = []): ReleasePolicy {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'cra-baseline', generation: 2 },
    spec: {
      checks: [
        { id: 'vuln.no-known-exploitable', enforcement: 'Block' },
        { id: 'vuln.no-known-exploited', enforcement: 'Block' },
      ],
      waivers,
    },
  };
}

describe('vuln.no-known-exploitable / vuln.no-known-exploited', () => {
  it('lists matched components, advisories and VEX status', () => {
    const ev: Evidence = { sboms: [sbom('cern-lhc-vdm-editor.cdx.json')], vulnFeeds: feeds() };
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, ev));
    assert.equal(out.result, 'Fail');
    assert.equal(out.reason, 'KnownVulnerability');
    assert.match(out.message, /^3 unresolved known vulnerabilities in 3 component\(s\)/);
    assert.match(out.message, /GHSA-6fc8-4gx4-v693 \(CVE-2021-32640\) in pkg:npm\/ws@6\.2\.1 \[no VEX\]/);
    assert.equal(out.findings?.length, 3);
    assert.equal(out.subjects?.length, 3);
    assert.equal(vulnNoKnownExploited.run(ctx(goodRelease(), {}, NOW, ev)).result, 'Pass');
  });

  it('VEX not_affected with justification resolves a match; unjustified or affected do not', () => {
    const doc = parseVex(read('vex/synthetic-openvex.json'));
    const ev: Evidence = { sboms: [sbom('cern-lhc-vdm-editor.cdx.json')], vulnFeeds: feeds(kevWith, [{ source: 'vex', doc }]) };
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, ev));
    assert.match(out.message, /^2 unresolved/);
    // the "affected" statement lacks its action_statement: invalid, so it is no statement at all
    assert.match(out.message, /minimist@0\.0\.8 \[no VEX\]/);
  });

  it('KEV: log4shell fails vuln.no-known-exploited; VEX (CSAF not_affected) resolves it', () => {
    const ev: Evidence = { sboms: [sbom('synthetic-log4j-app.cdx.json')], vulnFeeds: feeds() };
    const out = vulnNoKnownExploited.run(ctx(goodRelease(), {}, NOW, ev));
    assert.deepEqual([out.result, out.reason], ['Fail', 'KnownExploitedVulnerability']);
    assert.match(out.message, /GHSA-jfh8-c2jp-5v3q \(CVE-2021-44228\)/);
    const csaf = parseVex(read('vex/synthetic-csaf-vex.json'));
    const ok = vulnNoKnownExploited.run(ctx(goodRelease(), {}, NOW, { ...ev, vulnFeeds: feeds(kevWith, [{ source: 'csaf', doc: csaf }]) }));
    assert.equal(ok.result, 'Pass');
    assert.match(ok.message, /1 resolved by VEX/);
  });

  it('fails closed: no SBOM, no feed, a feed never loaded, an unusable SBOM', () => {
    const rel = goodRelease();
    assert.equal(vulnNoKnownExploitable.run(ctx(rel, {}, NOW, {})).reason, 'EvidenceUnavailable');
    assert.equal(vulnNoKnownExploitable.run(ctx(rel, {}, NOW, { sboms: [], vulnFeeds: feeds() })).result, 'Error');
    const noKev = { ...feeds(), feeds: feeds().feeds.filter((f) => f.kind === 'osv') };
    assert.equal(vulnNoKnownExploited.run(ctx(rel, {}, NOW, { sboms: [sbom('synthetic-log4j-app.cdx.json')], vulnFeeds: noKev })).reason, 'NoVulnerabilityFeed');
    const broken = { ...feeds(), feeds: [{ kind: 'osv' as const, source: 'x', records: 0, error: { reason: 'FeedInvalid' as const, message: 'not valid JSON' } }] };
    const r = vulnNoKnownExploitable.run(ctx(rel, {}, NOW, { sboms: [sbom('synthetic-log4j-app.cdx.json')], vulnFeeds: broken }));
    assert.deepEqual([r.result, r.reason], ['Error', 'FeedInvalid']);
    const bad: SbomEvidence = { artifact: 'app', source: 'bad', analysis: analyzeSbom('{') };
    assert.equal(vulnNoKnownExploitable.run(ctx(rel, {}, NOW, { sboms: [bad], vulnFeeds: feeds() })).result, 'Error');
  });
});

describe('waivers and the Art. 14 clock in evaluate()', () => {
  const rel = { ...goodRelease(), metadata: { name: 'logger-1', namespace: 'acme', generation: 1, labels: { product: 'acme-logger' } } };
  const evidence: Evidence = { sboms: [sbom('synthetic-log4j-app.cdx.json')], vulnFeeds: feeds() };

  it('a waived failure shows as Waived with its waiver; its expiry drives requeueAfter', () => {
    const w: Waiver[] = [
      { check: 'vuln.no-known-exploitable', vulnerability: 'CVE-2021-44228', releases: { matchLabels: { product: 'acme-logger' } }, justification: 'JndiLookup class removed', ticket: 'SEC-42', approvedBy: 'jane@acme.example', expires: '2028-02-03' },
    ];
    const ev = evaluate({ release: rel, policy: policy(w), policyName: 'cra-baseline', now: NOW, evidence });
    const c = ev.checks.find((x) => x.id === 'vuln.no-known-exploitable')!;
    assert.equal(c.result, 'Waived');
    assert.equal(c.waivers?.[0]?.ticket, 'SEC-42');
    assert.match(c.message, /^waived until 2028-02-03 by jane@acme.example \(SEC-42\)/);
    assert.equal(ev.summary.waived, 1);
    assert.equal(ev.requeueAfterMs, Date.parse('2028-02-04T00:00:00Z') - NOW.getTime());
    // KEV check is not waived (the waiver names the other check) -> still blocked
    assert.equal(ev.decision, 'Blocked');
    const after = evaluate({ release: rel, policy: policy(w), policyName: 'cra-baseline', now: new Date('2028-02-04T00:00:00Z'), evidence });
    assert.equal(after.checks.find((x) => x.id === 'vuln.no-known-exploitable')!.result, 'Fail');
  });

  it('an Approved release newly affected by a KEV vulnerability: NewlyExploitedVulnerability + a stable Art. 14 clock', () => {
    const before = evaluate({ release: rel, policy: policy(), policyName: 'cra-baseline', now: NOW, evidence: { ...evidence, vulnFeeds: feeds(kevWithout) } });
    assert.equal(before.checks.find((c) => c.id === 'vuln.no-known-exploited')!.result, 'Pass');
    assert.deepEqual(before.exploited, []);
    const approved = { ...rel, status: { decision: 'Approved' as const, conditions: [] } };
    const later = new Date('2028-02-01T06:00:00Z');
    const ev = evaluate({ release: approved, policy: policy(), policyName: 'cra-baseline', now: later, evidence });
    assert.equal(ev.decision, 'Blocked');
    assert.equal(ev.reason, 'NewlyExploitedVulnerability');
    assert.deepEqual(ev.exploited, [{
      vulnerability: 'CVE-2021-44228',
      advisories: ['GHSA-jfh8-c2jp-5v3q'],
      components: ['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar'],
      knownSince: '2028-02-01T06:00:00Z',
      earlyWarningDue: '2028-02-02T06:00:00Z',
      notificationDue: '2028-02-04T06:00:00Z',
    }]);
    // next evaluation: knownSince stays, the reason stays
    const blocked = { ...rel, status: { decision: 'Blocked' as const, exploited: ev.exploited, conditions: [{ type: 'Approved', status: 'False' as const, reason: ev.reason, message: '', lastTransitionTime: '2028-02-01T06:00:00Z' }] } };
    const again = evaluate({ release: blocked, policy: policy(), policyName: 'cra-baseline', now: new Date('2028-02-01T09:00:00Z'), evidence });
    assert.equal(again.exploited?.[0]?.knownSince, '2028-02-01T06:00:00Z');
    assert.equal(again.reason, 'NewlyExploitedVulnerability');
  });
});

describe('coverage is part of the verdict (issue 13 item 1)', () => {
  const nvdIndex = new NvdIndex(parseNvdFeed(read('nvd/nvd-demo-subset.json')));
  const bom = (components: unknown[]): SbomEvidence => ({
    artifact: 'fw',
    source: 'test',
    analysis: analyzeSbom(Buffer.from(JSON.stringify({
      bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
      metadata: { timestamp: '2026-01-01T00:00:00Z', component: { type: 'firmware', name: 'fw', version: '1.0', 'bom-ref': 'fw' } },
      components,
    }))),
  });
  const withNvd = (): VulnFeedsEvidence => ({
    ...feeds(),
    feeds: [...feeds().feeds, { kind: 'nvd', source: 'ConfigMap cra-gate/nvd', digest: 'sha256:c', records: 4, unconfigured: 1 }],
    nvd: nvdIndex,
  });
  const generic = { type: 'library', name: 'openssl', 'bom-ref': 'openssl', version: '3.0.13', purl: 'pkg:generic/openssl@3.0.13' };
  const zlibCpe = { type: 'library', name: 'zlib', 'bom-ref': 'zlib', version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*' };
  const opensslCpe = { ...generic, cpe: 'cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*' };

  it('"0 components checked" never passes: a pkg:generic component fails both checks by default', () => {
    const ev: Evidence = { sboms: [bom([generic])], vulnFeeds: feeds() };
    for (const check of [vulnNoKnownExploitable, vulnNoKnownExploited]) {
      const out = check.run(ctx(goodRelease(), {}, NOW, ev));
      assert.deepEqual([out.result, out.reason], ['Fail', 'UnassessedComponents'], check.id);
      assert.match(out.message, /^0 of 1 components assessed \(1 unassessed\): pkg:generic\/openssl@3\.0\.13 \(purl: purl type "generic" has no OSV ecosystem; no CPE\)/);
      assert.deepEqual(out.findings?.map((f) => f.pointer), ['/sboms/fw/components/0']);
    }
  });
  it('params.unassessed: Warn passes with a warning that names the unassessed components; anything else is an Error', () => {
    const ev: Evidence = { sboms: [bom([generic, zlibCpe])], vulnFeeds: withNvd() };
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), { unassessed: 'Warn' }, NOW, ev));
    assert.equal(out.result, 'Pass');
    assert.match(out.message, /^warning \(params\.unassessed: Warn\): 1 of 2 components assessed \(1 unassessed\): pkg:generic\/openssl@3\.0\.13/);
    assert.equal(out.findings?.length, 1);
    const bad = vulnNoKnownExploitable.run(ctx(goodRelease(), { unassessed: 'Ignore' }, NOW, ev));
    assert.deepEqual([bad.result, bad.reason], ['Error', 'InvalidCheckParams']);
  });
  it('CPE components with an NVD feed are assessed: the pass says "N of M components assessed" and counts unconfigured NVD records', () => {
    const ev: Evidence = { sboms: [bom([opensslCpe, zlibCpe])], vulnFeeds: withNvd() };
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, ev));
    assert.equal(out.result, 'Pass', out.message);
    assert.match(out.message, /^2 of 2 components assessed against \d+ advisories: no unresolved known vulnerabilities; 1 NVD record\(s\) without CPE configuration/);
    const old = { ...zlibCpe, version: '1.2.11', cpe: 'cpe:2.3:a:zlib:zlib:1.2.11:*:*:*:*:*:*:*' };
    const f = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, { sboms: [bom([old])], vulnFeeds: withNvd() }));
    assert.equal(f.reason, 'KnownVulnerability');
    assert.match(f.message, /CVE-2023-45853 in pkg|CVE-2023-45853 in cpe:2\.3:a:zlib:zlib:1\.2\.11/);
    assert.match(f.message, /NVD CPE match/);
  });
  it('KEV through a CPE-matched CVE blocks vuln.no-known-exploited', () => {
    const log4j = { type: 'library', name: 'log4j', 'bom-ref': 'log4j', version: '2.14.1', cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*' };
    const out = vulnNoKnownExploited.run(ctx(goodRelease(), {}, NOW, { sboms: [bom([log4j])], vulnFeeds: withNvd() }));
    assert.deepEqual([out.result, out.reason], ['Fail', 'KnownExploitedVulnerability']);
    assert.match(out.message, /CVE-2021-44228 in cpe:2\.3:a:apache:log4j:2\.14\.1/);
  });
  it('purl version and version field disagree: ComponentVersionConflict, not silently one of the two', () => {
    const c = { type: 'library', name: 'zlib', 'bom-ref': 'zlib', version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3:*:*:*:*:*:*:*' };
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, { sboms: [bom([{ ...c, cpe: 'cpe:2.3:a:zlib:zlib:1.3.2:*:*:*:*:*:*:*' }])], vulnFeeds: withNvd() }));
    assert.deepEqual([out.result, out.reason], ['Fail', 'ComponentVersionConflict']);
    assert.match(out.findings![0]!.message, /version conflict: .*version 1\.3\.1, CPE 1\.3\.2/);
    // the CPE's 1.3 is affected even though the version field says 1.3.1
    assert.equal(vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, { sboms: [bom([c])], vulnFeeds: withNvd() })).reason, 'KnownVulnerability');
  });
  it('an SBOM with no component besides the primary one is not a pass', () => {
    const out = vulnNoKnownExploitable.run(ctx(goodRelease(), {}, NOW, { sboms: [bom([])], vulnFeeds: feeds() }));
    assert.deepEqual([out.result, out.reason], ['Fail', 'UnassessedComponents']);
  });
  it('an NVD feed alone is enough for vuln.no-known-exploitable; coverage lands in evaluate() (status)', () => {
    const nvdOnly = { ...withNvd(), feeds: withNvd().feeds.filter((f) => f.kind !== 'osv') };
    const ev: Evidence = { sboms: [bom([zlibCpe, generic])], vulnFeeds: nvdOnly };
    assert.equal(vulnNoKnownExploitable.run(ctx(goodRelease(), { unassessed: 'Warn' }, NOW, ev)).result, 'Pass');
    const e = evaluate({ release: goodRelease(), policy: policy(), policyName: 'cra-baseline', now: NOW, evidence: ev });
    assert.deepEqual(e.vulnerabilityCoverage, {
      assessed: 1,
      total: 2,
      unassessed: [{ component: 'pkg:generic/openssl@3.0.13', pointer: '/sboms/fw/components/1', reason: 'purl: purl type "generic" has no OSV ecosystem; no CPE' }],
    });
  });
  it('item 15: blocking on KEV rests on Annex I Part I(2)(a) with its own date; Art. 14 is the reporting clock from 11 Sep 2026', () => {
    assert.deepEqual(vulnNoKnownExploited.cra, ['Annex I Part I(2)(a)']);
    assert.equal(vulnNoKnownExploited.inForceFrom, '2027-12-11');
    assert.equal(vulnNoKnownExploited.inForceBasis ?? 'placedOnMarket', 'placedOnMarket');
    const log4j = { type: 'library', name: 'log4j', 'bom-ref': 'log4j', version: '2.14.1', cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*' };
    const ev: Evidence = { sboms: [bom([log4j])], vulnFeeds: withNvd() };
    const before = evaluate({ release: goodRelease(), policy: policy(), policyName: 'cra-baseline', now: new Date('2026-09-10T12:00:00Z'), evidence: ev });
    assert.deepEqual(before.exploited, [], 'no Art. 14 clock before 11 Sep 2026');
    const after = evaluate({ release: goodRelease(), policy: policy(), policyName: 'cra-baseline', now: new Date('2026-09-11T00:00:00Z'), evidence: ev });
    assert.equal(after.exploited?.[0]?.vulnerability, 'CVE-2021-44228');
  });
});

describe('disclosure.security-txt / disclosure.cvd-policy / update channel probe', () => {
  const rel = goodRelease({ vulnerabilityHandling: { contact: 'mailto:a@b.example', securityTxt: 'https://acme.example/.well-known/security.txt', disclosurePolicy: 'https://acme.example/cvd' } });
  const txt = 'Contact: mailto:psirt@acme.example\nExpires: 2028-06-01T00:00:00Z\nPolicy: https://acme.example/cvd\n';
  it('passes a valid file and re-evaluates at its expiry', () => {
    const out = disclosureSecurityTxt.run(ctx(rel, {}, NOW, { disclosure: { securityTxt: { url: 'u', ok: true, status: 200, text: txt, digest: 'sha256:x' } } }));
    assert.equal(out.result, 'Pass');
    assert.equal(out.changesAt?.toISOString(), '2028-06-01T00:00:00.000Z');
    const exp = disclosureSecurityTxt.run(ctx(rel, {}, new Date('2028-07-01T00:00:00Z'), { disclosure: { securityTxt: { url: 'u', ok: true, text: txt } } }));
    assert.equal(exp.reason, 'SecurityTxtExpired');
  });
  it('HTTP 404 is a violation, the SSRF guard and network errors are errors', () => {
    const nf = disclosureCvdPolicy.run(ctx(rel, {}, NOW, { disclosure: { disclosurePolicy: { url: 'u', ok: false, error: { reason: 'FetchFailed', message: 'HTTP 404', httpStatus: 404 } } } }));
    assert.deepEqual([nf.result, nf.reason], ['Fail', 'DisclosurePolicyUnreachable']);
    const ssrf = disclosureCvdPolicy.run(ctx(rel, {}, NOW, { disclosure: { disclosurePolicy: { url: 'u', ok: false, error: { reason: 'UrlNotAllowed', message: 'private' } } } }));
    assert.deepEqual([ssrf.result, ssrf.reason], ['Error', 'UrlNotAllowed']);
    assert.equal(disclosureSecurityTxt.run(ctx(goodRelease(), {}, NOW, {})).reason, 'NoSecurityTxt');
  });
  it('the update channel must list this version', () => {
    assert.ok(documentListsVersion('{"releases":[{"version":"2.4.0"}]}', '2.4.0'));
    assert.ok(!documentListsVersion('{"releases":[{"version":"2.4.01"}]}', '2.4.0'));
    assert.ok(documentListsVersion('latest: 2.4.0\n', '2.4.0'));
    assert.ok(!documentListsVersion('latest: 12.4.0\n', '2.4.0'));
    const c = (text: string) => updateChannelProbe(ctx(goodRelease(), { probe: true }, NOW, { disclosure: { updateChannel: { url: 'u', ok: true, text } } }));
    assert.equal(c('["2.4.0"]'), undefined);
    assert.equal(c('["2.3.0"]')?.reason, 'UpdateChannelVersionMissing');
  });
});
