/**
 * One AdmissionReview (admission.k8s.io/v1) in, one answer out — from the informer caches only (no API call
 * on the hot path unless a namespace has not reached the cache yet, or a tag must be resolved).
 *
 * Modes (namespace label `cra-gate.dev/admission`): `enforce` denies violations, `warn` admits with admission
 * warnings, `audit` admits silently and records an Event and a metric. The enforce webhook entry
 * (failurePolicy Fail) calls `/validate/enforce`; the warn/audit entry (failurePolicy Ignore) calls
 * `/validate/observe`, where the label picks warn or audit.
 */
import type { Logger } from 'pino';
import type { V1Namespace } from '@kubernetes/client-node';
import type { AdmissionSettings } from '../api/types.ts';
import type { EventRecorder } from '../kube/events.ts';
import { gateSettings, judgeImages, ADMISSION_MODES, type AdmissionMode, type DigestResolver, type ReleaseIndex, type Violation } from './gate.ts';
import { imagesOf, isWorkloadKind, podSpecOf, type ContainerImage } from './workload.ts';

/** Subresources whose requests carry a workload to judge (kubectl debug adds ephemeral containers this way). */
const JUDGED_SUBRESOURCES: ReadonlySet<string> = new Set(['', 'ephemeralcontainers']);

export const MODE_LABEL = 'cra-gate.dev/admission';
export const STRICT_LABEL = 'cra-gate.dev/admission-strict';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation?: string;
  userInfo?: { username?: string; groups?: string[] };
  object?: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
}

export type Outcome = 'allowed' | 'denied' | 'warned' | 'audited' | 'exempt' | 'skipped';

export interface ReviewResult {
  response: AdmissionResponse;
  mode: AdmissionMode;
  outcome: Outcome;
  violations: Violation[];
}

export interface AdmissionContext {
  index: ReleaseIndex;
  resolver?: DigestResolver;
  /** The admission settings of the governing policy (the operator's default policy). */
  settings(): AdmissionSettings | undefined;
  namespace(name: string): Promise<V1Namespace | undefined>;
  exemptNamespaces: readonly string[];
  exemptServiceAccounts: readonly string[];
  defaultMode: AdmissionMode;
  events?: EventRecorder;
  log: Logger;
}

function saMatches(entries: readonly string[], ns: string, name: string): boolean {
  return entries.some((e) => e === `${ns}/${name}` || e === `${ns}/*`);
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

export async function review(ctx: AdmissionContext, path: 'enforce' | 'observe', req: AdmissionRequest): Promise<ReviewResult> {
  const allow = (mode: AdmissionMode, outcome: Outcome): ReviewResult => ({ response: { uid: req.uid, allowed: true }, mode, outcome, violations: [] });
  const kind = req.kind?.kind;
  const ns = req.namespace ?? '';
  let mode: AdmissionMode = path === 'enforce' ? 'enforce' : ctx.defaultMode;
  const nsObj = ns ? await ctx.namespace(ns) : undefined;
  const label = nsObj?.metadata?.labels?.[MODE_LABEL];
  if (path === 'observe') {
    if (label === 'warn' || label === 'audit') mode = label;
    // A namespace relabelled to enforce since the API server routed this request: be strict.
    else if (label === 'enforce') mode = 'enforce';
  }
  if (!isWorkloadKind(kind) || !JUDGED_SUBRESOURCES.has(req.subResource ?? '') || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) return allow(mode, 'skipped');
  if (req.subResource === 'ephemeralcontainers' && kind !== 'Pod') return allow(mode, 'skipped');

  const policy = ctx.settings();
  const exemptNs = [...ctx.exemptNamespaces, ...(policy?.exemptNamespaces ?? [])];
  if (exemptNs.includes(ns)) return allow(mode, 'exempt');
  const exemptSa = [...ctx.exemptServiceAccounts, ...(policy?.exemptServiceAccounts ?? [])];
  const user = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(req.userInfo?.username ?? '');
  if (user && saMatches(exemptSa, user[1]!, user[2]!)) return allow(mode, 'exempt');
  const spec = podSpecOf(kind, req.object);
  if (spec && saMatches(exemptSa, ns, spec.serviceAccountName || 'default')) return allow(mode, 'exempt');

  const read = imagesOf(spec);
  let images: ContainerImage[] = read.images;
  const violations: Violation[] = [];
  if (read.unreadable) {
    // Fail closed: a workload the webhook cannot read in full is never judged in part.
    violations.push({ reason: 'AdmissionLimitExceeded', image: '', container: '', message: `${read.unreadable}; the workload cannot be checked in full`, releases: [] });
  } else {
    if (req.operation === 'UPDATE' && req.oldObject) {
      // Only what the update brings in: a running workload can still be scaled down, labelled or deleted.
      const before = new Set(imagesOf(podSpecOf(kind, req.oldObject)).images.map((i) => i.image));
      images = images.filter((i) => !before.has(i.image));
    }
    if (images.length === 0) return allow(mode, 'allowed');
    const strictLabel = nsObj?.metadata?.labels?.[STRICT_LABEL];
    const strict = strictLabel === 'true' ? true : strictLabel === 'false' ? false : policy?.strict === true;
    violations.push(...(await judgeImages(images, gateSettings(policy, strict), ctx.index, ctx.resolver, ns)).violations);
  }
  if (violations.length === 0) return allow(mode, 'allowed');

  const object = `${kind} ${ns}/${req.name || String((req.object?.metadata as { name?: string; generateName?: string } | undefined)?.name ?? (req.object?.metadata as { generateName?: string } | undefined)?.generateName ?? '')}`;
  const details = violations.map((v) => v.message);
  if (mode === 'enforce') {
    const message = truncate(`cra-gate denied ${object}: ${details.join('; ')}`, 2048);
    return {
      response: { uid: req.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } },
      mode,
      outcome: 'denied',
      violations,
    };
  }
  if (mode === 'warn') {
    return {
      response: { uid: req.uid, allowed: true, warnings: details.slice(0, 10).map((d) => truncate(`cra-gate: ${d}`, 512)) },
      mode,
      outcome: 'warned',
      violations,
    };
  }
  // audit: admit; record an Event on each release involved (or the namespace) unless this is a dry run.
  if (!req.dryRun && ctx.events) {
    const releases = [...new Set(violations.flatMap((v) => v.releases))];
    const note = truncate(`${req.operation} of ${object} would be denied in enforce mode: ${details.join('; ')}`, 1000);
    if (releases.length === 0 && nsObj?.metadata?.uid) {
      ctx.events.event({ apiVersion: 'v1', kind: 'Namespace', name: ns, uid: nsObj.metadata.uid }, { type: 'Warning', reason: 'AdmissionAudit', action: 'Admit', note });
    }
    for (const key of releases.slice(0, 5)) {
      const rel = ctx.index.release(key);
      if (!rel?.metadata?.name) continue;
      ctx.events.event(
        { apiVersion: rel.apiVersion, kind: rel.kind, name: rel.metadata.name, namespace: rel.metadata.namespace ?? '', uid: rel.metadata.uid ?? '' },
        { type: 'Warning', reason: 'AdmissionAudit', action: 'Admit', note },
      );
    }
  }
  return { response: { uid: req.uid, allowed: true }, mode, outcome: 'audited', violations };
}

export function isMode(v: string | undefined): v is AdmissionMode {
  return (ADMISSION_MODES as readonly string[]).includes(v ?? '');
}
