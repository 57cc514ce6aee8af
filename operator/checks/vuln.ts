/**
 * vuln.no-known-exploitable — Annex I Part I(2)(a): no known exploitable vulnerabilities at release time.
 * Every OSV match must be resolved by VEX (`fixed`, or `not_affected` with a justification/impact statement).
 *
 * vuln.no-known-exploited — Annex I Part I(2)(a), Art. 14: zero unresolved matches whose advisory (or an
 * alias) is in the CISA KEV catalogue.
 *
 * vex.valid lives in ./vex.ts.
 *
 * Fail closed: no SBOM, an unusable SBOM, no feed of the needed kind, or a feed never loaded is an Error.
 * Matches whose range cannot be decided count as findings. Each outcome lists components, advisories and
 * VEX status; `subjects` let waivers cover individual vulnerabilities/packages.
 */
import { errorOutcome, fail, pass, pointerSegment } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import { vulnerabilityEvidence } from '../vuln/evidence.ts';
import type { VulnMatch, VulnerabilityEvidence } from '../vuln/evidence.ts';
import '../policy/waivers.ts';

function describe(m: VulnMatch): string {
  const alias = m.aliases.find((a) => a.startsWith('CVE-'));
  const vex = m.vex ? `VEX ${m.vex.status}${m.vex.suppresses ? '' : ' (does not resolve)'}` : 'no VEX';
  const unsure = m.uncertain ? `, undecided: ${m.uncertain}` : '';
  return `${m.advisory}${alias ? ` (${alias})` : ''} in ${m.purl} [${vex}${unsure}]`;
}

function sbomPointer(m: VulnMatch): string {
  return `/sboms/${pointerSegment(m.artifact)}${m.pointer}`;
}

function preconditions(ev: VulnerabilityEvidence | undefined, kind: 'osv' | 'kev', ctx: CheckContext): CheckOutcome | undefined {
  if (!ev) {
    const err = ctx.evidence.errors?.find((e) => e.source.startsWith('vuln'));
    return errorOutcome(err?.reason ?? 'EvidenceUnavailable', err?.message ?? 'vulnerability evidence was not collected');
  }
  const sboms = ctx.evidence.sboms ?? [];
  if (sboms.length === 0) return errorOutcome('EvidenceUnavailable', 'no SBOM to match against vulnerability feeds');
  if (ev.sbomProblems.length > 0) {
    return errorOutcome('EvidenceUnavailable', `${ev.sbomProblems.length} SBOM(s) unusable, matching incomplete: ${ev.sbomProblems[0]}`);
  }
  const needed = kind === 'kev' ? (['osv', 'kev'] as const) : (['osv'] as const);
  for (const k of needed) {
    const feeds = ev.feeds.filter((f) => f.kind === k);
    if (feeds.length === 0) {
      return errorOutcome('NoVulnerabilityFeed', `the policy has no ${k === 'osv' ? 'OSV' : 'KEV'} feed (spec.vulnerabilityFeeds)`);
    }
    const never = feeds.find((f) => f.digest === undefined);
    if (never) {
      return errorOutcome(never.error?.reason ?? 'FeedInvalid', `${k.toUpperCase()} feed ${never.source} unavailable: ${never.error?.message ?? 'not loaded'}`);
    }
  }
  const broken = ev.vex.find((v) => v.error);
  if (broken) return errorOutcome(broken.error!.reason, `VEX ${broken.source} unusable: ${broken.error!.message}`);
  return undefined;
}

function feedNote(ev: VulnerabilityEvidence): string {
  const stale = ev.feeds.filter((f) => f.error);
  return stale.length > 0 ? `; ${stale.length} feed refresh(es) failed, previous content in use` : '';
}

function outcomeFor(ev: VulnerabilityEvidence, open: VulnMatch[], resolved: number, what: string, reason: 'KnownVulnerability' | 'KnownExploitedVulnerability'): CheckOutcome {
  const digests = ev.feeds.map((f) => f.digest).filter(Boolean).join(',');
  const evidence = digests.length > 0 ? digests.slice(0, 2000) : undefined;
  if (open.length === 0) {
    return pass(
      `${ev.componentsScanned} components checked against ${ev.advisories} advisories: no unresolved ${what}${resolved > 0 ? ` (${resolved} resolved by VEX)` : ''}${feedNote(ev)}`,
      evidence ? { evidence } : {},
    );
  }
  const comps = new Set(open.map((m) => m.purl)).size;
  const findings: Finding[] = open.map((m) => ({ pointer: sbomPointer(m), message: describe(m) }));
  const head = open.slice(0, 3).map(describe).join('; ');
  const more = open.length > 3 ? `; +${open.length - 3} more` : '';
  return fail(reason, `${open.length} unresolved ${what} in ${comps} component(s): ${head}${more}`, {
    findings,
    subjects: open.map((m) => ({ vulnerabilities: [m.advisory, ...m.aliases], purl: m.purl })),
    ...(evidence ? { evidence } : {}),
  });
}

export const vulnNoKnownExploitable: CheckDefinition = {
  id: 'vuln.no-known-exploitable',
  title: 'No known exploitable vulnerabilities',
  cra: ['Annex I Part I(2)(a)'],
  standards: ['OSV schema 1.6', 'OpenVEX 0.2.0', 'CSAF 2.0 VEX profile', 'CycloneDX VEX'],
  reads: 'SBOM components (purl, version) × OSV feeds of the policy × the release VEX',
  passRule: 'every OSV match is fixed, or VEX not_affected with a justification or impact statement',
  fix: 'Upgrade the affected components, or publish a VEX statement (not_affected with justification, or fixed); a time-limited waiver in the policy for accepted risk.',
  inForceFrom: '2027-12-11',
  run(ctx) {
    const ev = vulnerabilityEvidence(ctx.evidence);
    const pre = preconditions(ev, 'osv', ctx);
    if (pre) return pre;
    const open = ev!.matches.filter((m) => !m.vex?.suppresses);
    return outcomeFor(ev!, open, ev!.matches.length - open.length, 'known vulnerabilities', 'KnownVulnerability');
  },
};

export const vulnNoKnownExploited: CheckDefinition = {
  id: 'vuln.no-known-exploited',
  title: 'No actively exploited vulnerabilities (CISA KEV)',
  cra: ['Annex I Part I(2)(a)', 'Art. 14'],
  standards: ['CISA KEV catalogue', 'OSV schema 1.6'],
  reads: 'SBOM components × OSV feeds (package → CVE) × KEV catalogue × the release VEX',
  passRule: 'no OSV match whose id or alias is in the KEV catalogue, unless VEX resolves it',
  fix: 'Upgrade the affected component now; an actively exploited vulnerability in a product on the market must be reported (Art. 14: early warning within 24 h, notification within 72 h).',
  inForceFrom: '2026-09-11',
  inForceBasis: 'date',
  run(ctx) {
    const ev = vulnerabilityEvidence(ctx.evidence);
    const pre = preconditions(ev, 'kev', ctx);
    if (pre) return pre;
    const kevMatches = ev!.matches.filter((m) => m.kev);
    const open = kevMatches.filter((m) => !m.vex?.suppresses);
    return outcomeFor(ev!, open, kevMatches.length - open.length, 'known-exploited vulnerabilities', 'KnownExploitedVulnerability');
  },
};
