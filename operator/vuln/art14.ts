/**
 * The CRA Art. 14 REPORTING clock (not the release verdict, which rests on Annex I Part I(2)(a), see
 * ../checks/vuln.ts): for every actively exploited vulnerability (CISA KEV, reached through an OSV alias or a
 * CPE-matched NVD CVE, not resolved by VEX) that affects a release, when cra-gate first saw it affect the
 * release (`knownSince`, kept stable across evaluations by reading the previous status) and the reporting
 * deadlines: early warning within 24 h (Art. 14(2)(a)) and vulnerability notification within 72 h
 * (Art. 14(2)(b)). Art. 14 applies from 11 September 2026 (Art. 71(2)), to every product on the market
 * including those placed before 11 December 2027 (Art. 69(3)); before that date there is no clock. Pure.
 */
import type { ExploitedVulnerability, ProductReleaseStatus } from '../api/types.ts';
import type { Evidence } from '../checks/types.ts';
import { vulnerabilityEvidence } from './evidence.ts';

export const EARLY_WARNING_MS = 24 * 3600_000;
export const NOTIFICATION_MS = 72 * 3600_000;
const MAX_ENTRIES = 64;
/** Art. 71(2): Art. 14 applies from 11 September 2026. */
export const ART14_APPLIES_FROM = new Date('2026-09-11T00:00:00Z');

export function exploitedClock(evidence: Evidence, previous: ProductReleaseStatus | undefined, now: Date): ExploitedVulnerability[] | undefined {
  const ev = vulnerabilityEvidence(evidence);
  if (!ev) return undefined;
  if (now.getTime() < ART14_APPLIES_FROM.getTime()) return [];
  const byCve = new Map<string, { advisories: Set<string>; components: Set<string> }>();
  for (const m of ev.matches) {
    if (!m.kev || m.vex?.suppresses) continue;
    let e = byCve.get(m.kev.cveID);
    if (!e) byCve.set(m.kev.cveID, (e = { advisories: new Set(), components: new Set() }));
    e.advisories.add(m.advisory);
    e.components.add(m.purl);
  }
  const prev = new Map((previous?.exploited ?? []).map((x) => [x.vulnerability, x]));
  const out: ExploitedVulnerability[] = [];
  for (const [cve, e] of [...byCve].sort((a, b) => a[0].localeCompare(b[0])).slice(0, MAX_ENTRIES)) {
    const p = prev.get(cve);
    const since = p && !Number.isNaN(Date.parse(p.knownSince)) ? new Date(p.knownSince) : now;
    out.push({
      vulnerability: cve,
      advisories: [...e.advisories].slice(0, 16),
      components: [...e.components].slice(0, 16),
      knownSince: since.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      earlyWarningDue: new Date(since.getTime() + EARLY_WARNING_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      notificationDue: new Date(since.getTime() + NOTIFICATION_MS).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }
  return out;
}

/**
 * `NewlyExploitedVulnerability` replaces the decision reason when the release is Blocked by a failing
 * `vuln.no-known-exploited` and was Approved before (or already carried this reason): an approved release
 * that a newly known-exploited vulnerability now affects.
 */
export function newlyExploitedReason<R extends string>(
  decision: string,
  reason: R,
  checks: readonly { id: string; result: string; enforcement: string }[],
  previous: ProductReleaseStatus | undefined,
): R | 'NewlyExploitedVulnerability' {
  if (decision !== 'Blocked') return reason;
  const kev = checks.find((c) => c.id === 'vuln.no-known-exploited');
  if (!kev || kev.result !== 'Fail' || kev.enforcement !== 'Block') return reason;
  const prevReason = previous?.conditions?.find((c) => c.type === 'Approved')?.reason;
  if (previous?.decision === 'Approved' || prevReason === 'NewlyExploitedVulnerability') return 'NewlyExploitedVulnerability';
  return reason;
}
