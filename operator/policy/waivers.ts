/**
 * Waivers: time-limited, accountable exceptions from a ReleasePolicy. Pure functions.
 *
 * A waiver applies to a check outcome when its `check` is the check's id, it has not expired (`expires` is
 * a date, valid to the end of that day UTC), and the release's labels match its `releases` selector (no
 * selector: every release of the policy). Only a `Fail` is waived — an `Error` (evidence missing) never is.
 * A check that reports `subjects` (one per finding: vulnerability ids and package URL) is waived only when
 * EVERY subject is covered by an applicable waiver (its `vulnerability` is one of the subject's ids, its
 * `purl` matches the subject's package; either omitted matches anything). A check without subjects is waived
 * by a waiver naming neither a vulnerability nor a package. A waiver of a `vuln.*` check must name a
 * vulnerability (the CRD and the offline validator reject it otherwise); one that does not never applies
 * (fail closed: no blanket waivers of vulnerability checks, however it got into the cluster).
 * The earliest expiry among the waivers used is returned as `changesAt`, so the release is re-evaluated the
 * moment the waiver stops applying.
 */
import type { CheckOutcome } from '../checks/types.ts';
import type { LabelSelector, Waiver } from '../api/types.ts';
import { purlMatches } from '../vuln/purl.ts';

/** One thing a failing check found that a waiver can cover (a vulnerability in a package). */
export interface WaiverSubject {
  /** Vulnerability ids (advisory id and aliases). */
  readonly vulnerabilities: readonly string[];
  /** Package URL of the affected component. */
  readonly purl?: string;
}


/** The waiver as shown in `status.checks[].waivers[]`. */
export interface AppliedWaiver {
  justification: string;
  ticket: string;
  approvedBy: string;
  expires: string;
  vulnerability?: string;
  purl?: string;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The instant a waiver stops applying: a date-time as given, or the start of the day after a date (UTC); undefined if malformed. */
export function waiverEnd(expires: string): Date | undefined {
  if (expires.includes('T')) {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(expires)) return undefined;
    const t = Date.parse(expires);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  const m = DAY_RE.exec(expires);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1));
  // Reject dates that roll over (2027-02-30).
  const check = new Date(d.getTime() - 86_400_000);
  if (check.getUTCFullYear() !== Number(m[1]) || check.getUTCMonth() !== Number(m[2]) - 1 || check.getUTCDate() !== Number(m[3])) return undefined;
  return d;
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // unknown operator: fail closed (the waiver does not apply)
    }
  }
  return true;
}

/** Waivers for `checkId` that apply to a release with `labels` at `now`. */
export function activeWaivers(waivers: readonly Waiver[] | undefined, checkId: string, labels: Readonly<Record<string, string>>, now: Date): Waiver[] {
  return (waivers ?? []).filter((w) => {
    if (w.check !== checkId) return false;
    const end = waiverEnd(w.expires);
    if (!end || now >= end) return false;
    // Every accountability field is required (the CRD enforces it; re-checked here: fail closed).
    if (![w.justification, w.ticket, w.approvedBy].every((s) => typeof s === 'string' && s.trim() !== '')) return false;
    if (isBlanketVulnWaiver(w)) return false;
    return selectorMatches(w.releases, labels);
  });
}

/** A waiver of a vulnerability check that names no vulnerability (rejected by the CRD; never applied). */
export function isBlanketVulnWaiver(w: Pick<Waiver, 'check' | 'vulnerability'>): boolean {
  return typeof w.check === 'string' && w.check.startsWith('vuln.') && (typeof w.vulnerability !== 'string' || w.vulnerability.trim() === '');
}

function covers(w: Waiver, s: WaiverSubject): boolean {
  if (w.vulnerability !== undefined && !s.vulnerabilities.some((v) => v.toUpperCase() === w.vulnerability!.toUpperCase())) return false;
  if (w.purl !== undefined && (s.purl === undefined || !purlMatches(w.purl, s.purl))) return false;
  return true;
}

export interface WaiverDecision {
  readonly waived: boolean;
  /** The waivers that together cover the failure (empty when not waived). */
  readonly used: readonly Waiver[];
  /** When the waived result lapses (earliest expiry among `used`). */
  readonly changesAt?: Date;
}

export function decideWaiver(outcome: CheckOutcome, checkId: string, labels: Readonly<Record<string, string>>, waivers: readonly Waiver[] | undefined, now: Date): WaiverDecision {
  if (outcome.result !== 'Fail') return { waived: false, used: [] };
  const active = activeWaivers(waivers, checkId, labels, now);
  if (active.length === 0) return { waived: false, used: [] };
  const used = new Set<Waiver>();
  const subjects = outcome.subjects ?? [];
  if (subjects.length === 0) {
    const whole = active.find((w) => w.vulnerability === undefined && w.purl === undefined);
    if (!whole) return { waived: false, used: [] };
    used.add(whole);
  } else {
    for (const s of subjects) {
      const w = active.find((x) => covers(x, s));
      if (!w) return { waived: false, used: [] };
      used.add(w);
    }
  }
  const list = [...used];
  const ends = list.map((w) => waiverEnd(w.expires)!.getTime());
  return { waived: true, used: list, changesAt: new Date(Math.min(...ends)) };
}

export function appliedWaiver(w: Waiver): AppliedWaiver {
  return {
    justification: w.justification,
    ticket: w.ticket,
    approvedBy: w.approvedBy,
    expires: w.expires,
    ...(w.vulnerability !== undefined ? { vulnerability: w.vulnerability } : {}),
    ...(w.purl !== undefined ? { purl: w.purl } : {}),
  };
}

/** A short status message for a waived failure. */
export function waivedMessage(original: string, used: readonly Waiver[]): string {
  const first = used[0]!;
  const more = used.length > 1 ? ` (+${used.length - 1} more waivers)` : '';
  return `waived until ${first.expires} by ${first.approvedBy} (${first.ticket})${more}: ${original}`;
}
