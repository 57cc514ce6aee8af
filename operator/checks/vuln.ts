/**
 * vuln.no-known-exploitable — Annex I Part I(2)(a) (products made available "without known exploitable
 * vulnerabilities"): every match of an SBOM component against the OSV (purl) and NVD (CPE) feeds must be
 * resolved by VEX (`fixed`, or `not_affected` with a justification/impact statement).
 *
 * vuln.no-known-exploited — Annex I Part I(2)(a) as well: a known-EXPLOITED vulnerability (CISA KEV, reached
 * through an OSV alias or a CPE-matched CVE) is the clearest case of a known exploitable one. The block rests
 * on Annex I (applicable from 11 Dec 2027 to products placed on the market from then, Art. 69(1), 71(2)).
 * Art. 14 is the separate REPORTING obligation for actively exploited vulnerabilities (from 11 Sep 2026, also
 * for products already on the market, Art. 69(3), 71(2)); its clock is ../vuln/art14.ts, not this verdict.
 *
 * vex.valid lives in ./vex.ts.
 *
 * Coverage is part of the verdict: the message says "N of M components assessed"; unassessed components are
 * listed (findings) and, with `params.unassessed: Fail` (default), the check never passes while any remain;
 * `Warn` passes with a warning naming them. A component whose purl version, CPE version and version field
 * disagree is a finding (ComponentVersionConflict).
 *
 * Fail closed: no SBOM, an unusable SBOM, no feed of the needed kind, or a feed never loaded is an Error.
 * Matches whose range cannot be decided count as findings. Each outcome lists components, advisories and
 * VEX status; `subjects` let waivers cover individual vulnerabilities/packages.
 */
import { errorOutcome, fail, pass, pointerSegment } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import { vulnerabilityEvidence } from '../vuln/evidence.ts';
import type { VulnMatch, VulnerabilityEvidence } from '../vuln/evidence.ts';

const LISTED = 3;

function describe(m: VulnMatch): string {
  const alias = m.aliases.find((a) => a.startsWith('CVE-'));
  const vex = m.vex ? `VEX ${m.vex.status}${m.vex.suppresses ? '' : ' (does not resolve)'}` : 'no VEX';
  const unsure = m.uncertain ? `, undecided: ${m.uncertain}` : '';
  const via = m.source === 'nvd' ? ', NVD CPE match' : '';
  return `${m.advisory}${alias ? ` (${alias})` : ''} in ${m.purl} [${vex}${via}${unsure}]`;
}

function sbomPointer(artifact: string, pointer: string): string {
  return `/sboms/${pointerSegment(artifact)}${pointer}`;
}

type UnassessedMode = 'Fail' | 'Warn';

function unassessedMode(ctx: CheckContext): { mode: UnassessedMode } | { error: string } {
  const v = ctx.params.unassessed ?? 'Fail';
  return v === 'Fail' || v === 'Warn' ? { mode: v } : { error: 'params.unassessed must be "Fail" or "Warn"' };
}

function preconditions(ev: VulnerabilityEvidence | undefined, kind: 'match' | 'kev', ctx: CheckContext): CheckOutcome | undefined {
  if (!ev) {
    const err = ctx.evidence.errors?.find((e) => e.source.startsWith('vuln'));
    return errorOutcome(err?.reason ?? 'EvidenceUnavailable', err?.message ?? 'vulnerability evidence was not collected');
  }
  const sboms = ctx.evidence.sboms ?? [];
  if (sboms.length === 0) return errorOutcome('EvidenceUnavailable', 'no SBOM to match against vulnerability feeds');
  if (ev.sbomProblems.length > 0) {
    return errorOutcome('EvidenceUnavailable', `${ev.sbomProblems.length} SBOM(s) unusable, matching incomplete: ${ev.sbomProblems[0]}`);
  }
  if (!ev.feeds.some((f) => f.kind === 'osv' || f.kind === 'nvd')) {
    return errorOutcome('NoVulnerabilityFeed', 'the policy has no OSV or NVD feed (spec.vulnerabilityFeeds)');
  }
  if (kind === 'kev' && !ev.feeds.some((f) => f.kind === 'kev')) {
    return errorOutcome('NoVulnerabilityFeed', 'the policy has no KEV feed (spec.vulnerabilityFeeds)');
  }
  const never = ev.feeds.find((f) => f.digest === undefined && (kind === 'kev' || f.kind !== 'kev'));
  if (never) {
    return errorOutcome(never.error?.reason ?? 'FeedInvalid', `${never.kind.toUpperCase()} feed ${never.source} unavailable: ${never.error?.message ?? 'not loaded'}`);
  }
  const broken = ev.vex.find((v) => v.error);
  if (broken) return errorOutcome(broken.error!.reason, `VEX ${broken.source} unusable: ${broken.error!.message}`);
  return undefined;
}

function feedNote(ev: VulnerabilityEvidence): string {
  const stale = ev.feeds.filter((f) => f.error);
  const unconfigured = ev.feeds.reduce((n, f) => n + (f.unconfigured ?? 0), 0);
  return (
    (stale.length > 0 ? `; ${stale.length} feed refresh(es) failed, previous content in use` : '') +
    (unconfigured > 0 ? `; ${unconfigured} NVD record(s) without CPE configuration (not yet analysed by NVD) match nothing` : '')
  );
}

function coverageOf(ev: VulnerabilityEvidence): string {
  const un = ev.componentsTotal - ev.componentsAssessed;
  return `${ev.componentsAssessed} of ${ev.componentsTotal} components assessed${un > 0 ? ` (${un} unassessed)` : ''}`;
}

function unassessedHead(ev: VulnerabilityEvidence): string {
  const head = ev.unassessed.slice(0, LISTED).map((u) => `${u.component} (${u.reason})`).join('; ');
  return `${head}${ev.unassessed.length > LISTED ? `; +${ev.unassessed.length - LISTED} more` : ''}`;
}

function coverageFindings(ev: VulnerabilityEvidence): Finding[] {
  return [
    ...ev.unassessed.map((u) => ({ pointer: sbomPointer(u.artifact, u.pointer), message: `unassessed: ${u.component}: ${u.reason}` })),
    ...ev.versionConflicts.map((c) => ({
      pointer: sbomPointer(c.artifact, c.pointer),
      message: `version conflict: ${c.component}: ${[c.version !== undefined ? `version ${c.version}` : '', c.purlVersion !== undefined ? `purl ${c.purlVersion}` : '', c.cpeVersion !== undefined ? `CPE ${c.cpeVersion}` : ''].filter(Boolean).join(', ')} (matched with each)`,
    })),
  ];
}

function outcomeFor(
  ev: VulnerabilityEvidence,
  open: VulnMatch[],
  resolved: number,
  what: string,
  reason: 'KnownVulnerability' | 'KnownExploitedVulnerability',
  mode: UnassessedMode,
): CheckOutcome {
  const digests = ev.feeds.map((f) => f.digest).filter(Boolean).join(',');
  const evidence = digests.length > 0 ? { evidence: digests.slice(0, 2000) } : {};
  const coverage = coverageOf(ev);
  const extraFindings = coverageFindings(ev);
  if (open.length > 0) {
    const comps = new Set(open.map((m) => `${m.artifact}\u0000${m.pointer}`)).size;
    const findings: Finding[] = [...open.map((m) => ({ pointer: sbomPointer(m.artifact, m.pointer), message: describe(m) })), ...extraFindings];
    const head = open.slice(0, LISTED).map(describe).join('; ');
    const more = open.length > LISTED ? `; +${open.length - LISTED} more` : '';
    return fail(reason, `${open.length} unresolved ${what} in ${comps} component(s): ${head}${more} — ${coverage}`, {
      findings,
      subjects: open.map((m) => ({ vulnerabilities: [m.advisory, ...m.aliases], purl: m.purl })),
      ...evidence,
    });
  }
  const clean = `no unresolved ${what}${resolved > 0 ? ` (${resolved} resolved by VEX)` : ''}`;
  if (ev.versionConflicts.length > 0) {
    const c = ev.versionConflicts[0]!;
    return fail('ComponentVersionConflict', `${ev.versionConflicts.length} component(s) state conflicting versions, e.g. ${c.component} (version ${c.version ?? '-'}, purl ${c.purlVersion ?? '-'}, CPE ${c.cpeVersion ?? '-'}); ${clean} with either — ${coverage}`, {
      findings: extraFindings,
      ...evidence,
    });
  }
  if (ev.componentsTotal === 0) {
    const msg = 'the SBOMs list no components besides the primary one: nothing could be assessed';
    return mode === 'Fail' ? fail('UnassessedComponents', msg, evidence) : pass(`warning (params.unassessed: Warn): ${msg}`, evidence);
  }
  if (ev.unassessed.length > 0) {
    const msg = `${coverage}: ${unassessedHead(ev)}; ${clean} among the assessed${feedNote(ev)}`;
    return mode === 'Fail'
      ? fail('UnassessedComponents', msg, { findings: extraFindings, ...evidence })
      : pass(`warning (params.unassessed: Warn): ${msg}`, { findings: extraFindings, ...evidence });
  }
  return pass(`${coverage} against ${ev.advisories} advisories: ${clean}${feedNote(ev)}`, evidence);
}

export const vulnNoKnownExploitable: CheckDefinition = {
  id: 'vuln.no-known-exploitable',
  title: 'No known exploitable vulnerabilities',
  cra: ['Annex I Part I(2)(a)'],
  standards: ['OSV schema 1.6', 'NVD CVE API 2.0 / CPE 2.3 (NISTIR 7695, 7696)', 'OpenVEX 0.2.0', 'CSAF 2.0 VEX profile', 'CycloneDX VEX'],
  reads: 'SBOM components (purl with distro qualifiers, CPE, version) × OSV and NVD feeds of the policy × the release VEX',
  passRule:
    'every component is assessed (params.unassessed: Warn only warns) with consistent versions, and every OSV/NVD match is fixed, or VEX not_affected with a justification or impact statement',
  fix: 'Upgrade the affected components, or publish a VEX statement (not_affected with justification, or fixed); give every component a purl (with distro qualifier for distribution packages) or a CPE; a time-limited waiver in the policy for accepted risk.',
  inForceFrom: '2027-12-11',
  params: ['unassessed'],
  run(ctx) {
    const ev = vulnerabilityEvidence(ctx.evidence);
    const pre = preconditions(ev, 'match', ctx);
    if (pre) return pre;
    const m = unassessedMode(ctx);
    if ('error' in m) return errorOutcome('InvalidCheckParams', m.error);
    const open = ev!.matches.filter((m) => !m.vex?.suppresses);
    return outcomeFor(ev!, open, ev!.matches.length - open.length, 'known vulnerabilities', 'KnownVulnerability', m.mode);
  },
};

export const vulnNoKnownExploited: CheckDefinition = {
  id: 'vuln.no-known-exploited',
  title: 'No actively exploited vulnerabilities (CISA KEV)',
  cra: ['Annex I Part I(2)(a)'],
  standards: ['CISA KEV catalogue', 'OSV schema 1.6', 'NVD CVE API 2.0 / CPE 2.3'],
  reads: 'SBOM components × OSV feeds (package → CVE aliases) and NVD feeds (CPE → CVE) × KEV catalogue × the release VEX',
  passRule: 'every component is assessed (params.unassessed: Warn only warns) and no OSV/NVD match whose id or alias is in the KEV catalogue remains, unless VEX resolves it',
  fix: 'Upgrade the affected component now. Separately, Art. 14(1)-(2) (from 11 Sep 2026, also for products already on the market) requires notifying an actively exploited vulnerability: early warning within 24 h, notification within 72 h (status.exploited).',
  inForceFrom: '2027-12-11',
  params: ['unassessed'],
  run(ctx) {
    const ev = vulnerabilityEvidence(ctx.evidence);
    const pre = preconditions(ev, 'kev', ctx);
    if (pre) return pre;
    const m = unassessedMode(ctx);
    if ('error' in m) return errorOutcome('InvalidCheckParams', m.error);
    const kevMatches = ev!.matches.filter((m) => m.kev);
    const open = kevMatches.filter((m) => !m.vex?.suppresses);
    return outcomeFor(ev!, open, kevMatches.length - open.length, 'known-exploited vulnerabilities', 'KnownExploitedVulnerability', m.mode);
  },
};
