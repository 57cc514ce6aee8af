/**
 * Art. 14 reporting Events: when an actively exploited vulnerability (status.exploited) first affects a
 * release, one Warning Event per vulnerability names the three deadlines of Art. 14(2) — early warning (24 h),
 * vulnerability notification (72 h), final report (14 days after a corrective measure) — and where the drafts
 * are (`cra-gate dossier`). Pure: the reconcile passes the events to the recorder.
 */
import type { ExploitedVulnerability } from '../api/types.ts';
import type { EventInput } from '../kube/events.ts';

export function art14Events(previous: readonly ExploitedVulnerability[] | undefined, current: readonly ExploitedVulnerability[] | undefined): EventInput[] {
  const known = new Set((previous ?? []).map((x) => x.vulnerability));
  return (current ?? [])
    .filter((x) => !known.has(x.vulnerability))
    .map((x) => ({
      type: 'Warning' as const,
      reason: 'Art14ReportingDue',
      action: 'Report',
      note:
        `${x.vulnerability} is actively exploited (CISA KEV) and affects this release: report it through the single reporting platform (Art. 14(1), 16): ` +
        `early warning by ${x.earlyWarningDue} (Art. 14(2)(a)), vulnerability notification by ${x.notificationDue} (Art. 14(2)(b)), ` +
        `final report within 14 days of a corrective or mitigating measure (Art. 14(2)(c)). Drafts: cra-gate dossier.`,
    }));
}
