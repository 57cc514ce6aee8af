import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDossier } from './model.ts';
import { renderDossierHtml, renderDossierJson, renderDossierMarkdown } from './render.ts';
import { evaluate } from '../engine/evaluate.ts';
import { goodRelease } from '../checks/testkit.ts';
import type { ReleasePolicy } from '../checks/api.ts';
import type { ExploitedVulnerability } from '../api/types.ts';

const policy: ReleasePolicy = {
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ReleasePolicy',
  metadata: { name: 'p', generation: 3 },
  spec: { checks: [{ id: 'manufacturer.identity', enforcement: 'Block' }, { id: 'conformity.route', enforcement: 'Block' }, { id: 'update.support-period', enforcement: 'Block' }] },
};
const now = new Date('2028-02-01T10:00:00Z');

function release(extra: Record<string, unknown> = {}) {
  const r = goodRelease({
    conformity: { module: 'B+C', standards: [{ kind: 'HarmonisedStandard', reference: 'EN 40000-1-2', application: 'Partial' }], notifiedBody: { number: '0123', name: 'Cert Lab <NB>' }, certificate: { id: 'EUTEC-42' } },
    userInformation: { intendedPurpose: { text: 'Perimeter firewall for SMEs' }, productIdentification: { text: 'FW-3100 rev A' } },
    ...extra,
  } as never);
  (r.spec.product as { category?: string }).category = 'firewall-ids-ips';
  return r;
}

void test('the file is built from the verified facts, and says what is still to be provided', () => {
  const rel = release();
  const ev = evaluate({ release: rel, policy, policyName: 'p', now });
  assert.equal(ev.decision, 'Approved', ev.message);
  assert.deepEqual(ev.conformity, { category: 'firewall-ids-ips', productClass: 'important-class-ii', module: 'B+C' });
  const d = buildDossier({ release: rel, evaluation: ev, evidence: {}, now, tool: 'cra-gate test' });
  assert.equal(d.verdict.decision, 'Approved');
  assert.equal(d.verdict.policyGeneration, 3);
  assert.deepEqual(d.technicalDocumentation.map((s) => s.ref), ['Annex VII(1)', 'Annex VII(2)', 'Annex VII(3), Art. 13(2)', 'Annex VII(4), Art. 13(8)', 'Annex VII(5), Art. 32', 'Annex VII(6)']);
  const all = d.technicalDocumentation.flatMap((s) => s.fields);
  const byLabel = (l: string) => all.find((f) => f.label === l)!;
  assert.equal(byLabel('Intended purpose').value, 'Perimeter firewall for SMEs');
  assert.match(byLabel('Category').value!, /Annex III Class II\(2\).*important, class II/);
  assert.match(byLabel('Conformity assessment procedure').value!, /Module B \+ C.*allowed for this category: B\+C, H, EUCC/);
  assert.match(byLabel('Conformity assessment procedure').source!, /check conformity\.route: Pass/);
  assert.match(byLabel('Harmonised standards, common specifications, certification schemes').value!, /EN 40000-1-2 \(HarmonisedStandard, applied in part\)/);
  assert.equal(byLabel('Risk assessment (referenced document)').toBeProvided, true);
  assert.equal(byLabel('Software bill of materials').toBeProvided, true, 'no SBOM evidence: nothing is invented');
  assert.match(byLabel('How the support period was determined').value!, /five years/);
  const doc = d.declarationOfConformity.fields;
  assert.equal(d.declarationOfConformity.draft, true);
  assert.match(doc.find((f) => f.ref === 'Annex V(2)')!.value!, /ACME Networks GmbH, Musterstr\. 1/);
  assert.match(doc.find((f) => f.ref === 'Annex V(7)')!.value!, /Cert Lab <NB> \(0123\).*certificate EUTEC-42/);
  assert.equal(doc.find((f) => f.ref === 'Annex V(8)')!.toBeProvided, true, 'place, date and signature are the signatory\'s');
  assert.equal(d.checks.length, 3);
  assert.equal(d.art14.length, 0);
  assert.ok(d.gaps > 0);
  assert.equal(d.gaps, [...all, ...doc].filter((f) => f.toBeProvided).length);
});

void test('Art. 14 drafts: three reports per exploited vulnerability with the Art. 14(2) fields and deadlines', () => {
  const rel = release();
  const ev = evaluate({ release: rel, policy, policyName: 'p', now });
  const exploited: ExploitedVulnerability[] = [
    { vulnerability: 'CVE-2021-44228', advisories: ['GHSA-jfh8-c2jp-5v3q'], components: ['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'], knownSince: '2028-02-01T09:00:00Z', earlyWarningDue: '2028-02-02T09:00:00Z', notificationDue: '2028-02-04T09:00:00Z' },
  ];
  const d = buildDossier({ release: rel, evaluation: { ...ev, exploited }, evidence: {}, now, tool: 't' });
  assert.equal(d.art14.length, 1);
  const [ew, vn, fr] = d.art14[0]!.reports;
  assert.deepEqual([ew!.kind, vn!.kind, fr!.kind], ['early-warning', 'vulnerability-notification', 'final-report']);
  assert.deepEqual([ew!.ref, vn!.ref, fr!.ref], ['Art. 14(2)(a)', 'Art. 14(2)(b)', 'Art. 14(2)(c)']);
  assert.equal(ew!.due, '2028-02-02T09:00:00Z');
  assert.equal(vn!.due, '2028-02-04T09:00:00Z');
  assert.equal(fr!.due, undefined, 'the final report runs from the corrective measure, which the gate does not know');
  assert.match(fr!.dueRule, /14 days after a corrective or mitigating measure/);
  assert.ok(ew!.fields.some((f) => f.label.startsWith('Member States') && f.toBeProvided));
  assert.ok(vn!.fields.some((f) => f.label === 'General nature of the exploit and of the vulnerability' && f.toBeProvided));
  assert.ok(fr!.fields.some((f) => f.ref === 'Art. 14(2)(c)(iii)'));
  assert.equal(ew!.fields.find((f) => f.label === 'Affected components')!.value, 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1');
  const md = renderDossierMarkdown(d);
  assert.match(md, /### CVE-2021-44228 \(known since 2028-02-01T09:00:00Z\)/);
  assert.match(md, /#### Early warning notification \(Art\. 14\(2\)\(a\)\) — due 2028-02-02T09:00:00Z/);
});

void test('renderers: JSON round-trips; HTML is one self-contained, escaped, printable file; Markdown escapes tables', () => {
  const rel = release({ userInformation: { intendedPurpose: { text: 'a | b <script>alert(1)</script>' } } });
  (rel.spec.product as { name: string }).name = 'fw<img src=x onerror=alert(1)>';
  const ev = evaluate({ release: rel, policy, policyName: 'p', now });
  const d = buildDossier({ release: rel, evaluation: ev, evidence: {}, now, tool: 't' });
  assert.deepEqual(JSON.parse(renderDossierJson(d)), JSON.parse(JSON.stringify(d)));
  const html = renderDossierHtml(d);
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.ok(!/<script|<img|<link|<iframe|@import|url\(/i.test(html), 'no scripts, images, stylesheets or fonts from anywhere');
  assert.ok(!/<[^>]*\bsrc=/.test(html), "no element loads anything");
  assert.match(html, /fw&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /a \| b &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /@media print\{[^]*@page\{size:A4/);
  assert.match(html, /<th scope="col">Item<\/th>/);
  assert.match(html, /<strong>To be provided<\/strong>/);
  const md = renderDossierMarkdown(d);
  assert.match(md, /a \\\| b <script>/);
  assert.match(md, /\*\*To be provided\*\*/);
});
