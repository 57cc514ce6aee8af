/**
 * Hardening rules beyond the Pod Security Standards (what Polaris / kube-score check), each with a stable id:
 *
 *  - `hardening.read-only-root-filesystem` — every container sets securityContext.readOnlyRootFilesystem=true;
 *  - `hardening.resources` — every container (and init container) declares requests.cpu, requests.memory and
 *    limits.memory (availability: a pod without them can starve its node); pod-level resources count;
 *  - `hardening.service-account-token` — the service account token is not mounted by default: the pod or its
 *    ServiceAccount (when shipped) sets automountServiceAccountToken=false; a pod that states `true` says it
 *    needs the API and is accepted;
 *  - `hardening.rbac-wildcard` — no `*` in verbs, resources, apiGroups or nonResourceURLs of shipped
 *    Roles/ClusterRoles;
 *  - `hardening.service-exposure` — NodePort and LoadBalancer Services only with the annotation
 *    `cra-gate.dev/intended-exposure: <why>` (a declared, intended exposure).
 * Pure; pointers are relative to the object root.
 */
import { containersOf, podSpecOf } from './pss.ts';
import type { ManifestDoc } from './types.ts';

export const EXPOSURE_ANNOTATION = 'cra-gate.dev/intended-exposure';

export const HARDENING_RULES = {
  'hardening.read-only-root-filesystem': { cra: ['Annex I Part I(2)(j)'], title: 'Read-only root filesystem' },
  'hardening.resources': { cra: ['Annex I Part I(2)(h)'], title: 'Resource requests and limits' },
  'hardening.service-account-token': { cra: ['Annex I Part I(2)(d)'], title: 'No default service account token' },
  'hardening.rbac-wildcard': { cra: ['Annex I Part I(2)(d)'], title: 'No RBAC wildcards' },
  'hardening.service-exposure': { cra: ['Annex I Part I(2)(j)'], title: 'Only intended network exposure' },
} as const;

export type HardeningRuleId = keyof typeof HARDENING_RULES;

export interface HardeningViolation {
  readonly rule: HardeningRuleId;
  readonly pointer: string;
  readonly message: string;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const has = (o: Obj | undefined, k: string): boolean => o !== undefined && o[k] !== undefined && o[k] !== null && o[k] !== '';

/** ServiceAccounts shipped in the manifests, by namespace-less name → automountServiceAccountToken. */
export function serviceAccountAutomount(docs: readonly ManifestDoc[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const d of docs) {
    if (d.kind === 'ServiceAccount' && !d.apiVersion.includes('/')) out.set(d.name, d.object.automountServiceAccountToken);
  }
  return out;
}

export function checkHardening(doc: ManifestDoc, serviceAccounts: ReadonlyMap<string, unknown>): HardeningViolation[] {
  const out: HardeningViolation[] = [];
  const emit = (rule: HardeningRuleId, pointer: string, message: string): void => {
    out.push({ rule, pointer, message });
  };

  const loc = podSpecOf(doc);
  if (loc) {
    const podResources = rec(loc.spec.resources);
    const podRequests = rec(podResources?.requests);
    const podLimits = rec(podResources?.limits);
    for (const r of containersOf(loc)) {
      if (r.ephemeral) continue; // debugging containers are added at run time, not shipped
      if (r.sc?.readOnlyRootFilesystem !== true) {
        emit('hardening.read-only-root-filesystem', `${r.pointer}/securityContext/readOnlyRootFilesystem`,
          `container "${r.name}" must set securityContext.readOnlyRootFilesystem=true`);
      }
      const res = rec(r.c.resources);
      const requests = rec(res?.requests);
      const limits = rec(res?.limits);
      const missing: string[] = [];
      if (!has(requests, 'cpu') && !has(podRequests, 'cpu')) missing.push('requests/cpu');
      if (!has(requests, 'memory') && !has(podRequests, 'memory')) missing.push('requests/memory');
      if (!has(limits, 'memory') && !has(podLimits, 'memory')) missing.push('limits/memory');
      for (const m of missing) {
        emit('hardening.resources', `${r.pointer}/resources/${m}`, `container "${r.name}" must declare resources.${m.replace('/', '.')}`);
      }
    }
    const podValue = loc.spec.automountServiceAccountToken;
    if (podValue !== true && podValue !== false) {
      const saName = typeof loc.spec.serviceAccountName === 'string' && loc.spec.serviceAccountName !== ''
        ? loc.spec.serviceAccountName
        : typeof loc.spec.serviceAccount === 'string' && loc.spec.serviceAccount !== '' ? loc.spec.serviceAccount : 'default';
      if (serviceAccounts.get(saName) !== false) {
        emit('hardening.service-account-token', `${loc.specPointer}/automountServiceAccountToken`,
          `pod mounts the token of service account "${saName}" by default; set automountServiceAccountToken=false (or true where the API is needed)`);
      }
    }
  }

  if ((doc.kind === 'Role' || doc.kind === 'ClusterRole') && doc.apiVersion.startsWith('rbac.authorization.k8s.io/')) {
    list(doc.object.rules).forEach((raw, i) => {
      const rule = rec(raw) ?? {};
      for (const field of ['verbs', 'resources', 'apiGroups', 'nonResourceURLs']) {
        list(rule[field]).forEach((v, j) => {
          if (typeof v === 'string' && (v === '*' || v.endsWith('/*') || v.startsWith('*/'))) {
            emit('hardening.rbac-wildcard', `/rules/${i}/${field}/${j}`, `${doc.kind} rule ${i} grants the wildcard ${JSON.stringify(v)} in ${field}; list what is needed`);
          }
        });
      }
    });
  }

  if (doc.kind === 'Service' && !doc.apiVersion.includes('/')) {
    const spec = rec(doc.object.spec) ?? {};
    const type = spec.type;
    if (type === 'NodePort' || type === 'LoadBalancer') {
      const ann = rec(rec(doc.object.metadata)?.annotations);
      const why = ann?.[EXPOSURE_ANNOTATION];
      if (typeof why !== 'string' || why.trim() === '') {
        emit('hardening.service-exposure', '/spec/type',
          `Service type ${type} exposes the product outside the cluster by default; use ClusterIP or annotate ${EXPOSURE_ANNOTATION}: <why>`);
      }
    }
  }
  return out;
}

