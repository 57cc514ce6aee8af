/**
 * Vulnerability coverage of a release, for its status (`status.vulnerabilityCoverage`), the CLI reports and
 * the metrics: how many SBOM components the feeds could assess, and the first unassessed ones with the
 * reason. Pure; undefined when the vulnerability evidence was not collected.
 */
import type { VulnerabilityCoverage } from '../api/types.ts';
import type { Evidence } from '../checks/types.ts';
import { pointerSegment } from '../util/json-pointer.ts';
import { vulnerabilityEvidence } from './evidence.ts';

/** At most this many unassessed components are listed (the count is total - assessed). */
export const MAX_UNASSESSED_LISTED = 20;

export function vulnerabilityCoverage(evidence: Evidence): VulnerabilityCoverage | undefined {
  const ev = vulnerabilityEvidence(evidence);
  if (!ev) return undefined;
  return {
    assessed: ev.componentsAssessed,
    total: ev.componentsTotal,
    ...(ev.unassessed.length > 0
      ? {
          unassessed: ev.unassessed.slice(0, MAX_UNASSESSED_LISTED).map((u) => ({
            component: u.component.slice(0, 2048),
            pointer: `/sboms/${pointerSegment(u.artifact)}${u.pointer}`.slice(0, 1024),
            reason: u.reason.slice(0, 512),
          })),
        }
      : {}),
  };
}

/** "12 of 14 components assessed" plus the count of unassessed ones, for messages. */
export function coverageLine(c: VulnerabilityCoverage): string {
  const un = c.total - c.assessed;
  return `${c.assessed} of ${c.total} components assessed${un > 0 ? `, ${un} unassessed` : ''}`;
}
