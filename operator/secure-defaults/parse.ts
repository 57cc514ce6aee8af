/**
 * Parsing of shipped manifests (multi-document YAML) and settings (JSON or YAML), with bounded cost.
 *
 * YAML is read by the one Kubernetes-compatible loader (../validation/yaml.ts: go-yaml v2 scalars, so
 * `privileged: yes` is `true` here exactly as the API server runs it; timestamps stay strings as written).
 * Every document is then copied into a plain JSON tree with a node budget, so alias bombs ("billion
 * laughs") and absurdly deep or large documents stop with a clear error instead of exhausting memory in
 * later passes. Errors are `CraGateError`s: `MalformedSecureDefaults` (syntax, not an
 * object, no kind, an unknown kind of a built-in API group) and `SecureDefaultsTooLarge` (limits).
 */
import { CraGateError } from '../errors.ts';
import type { ManifestDoc, SettingsFile } from './types.ts';
import { loadYaml, loadYamlAll, yamlErrorPosition } from '../validation/yaml.ts';

export interface ParseLimits {
  /** Bytes of one file. */
  readonly maxFileBytes: number;
  /** Kubernetes objects over all manifest files. */
  readonly maxDocuments: number;
  /** JSON nodes (objects, arrays, scalars) of one document after alias expansion. */
  readonly maxNodesPerDocument: number;
  /** Nesting depth of one document. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxFileBytes: 4 * 1024 * 1024,
  maxDocuments: 5_000,
  maxNodesPerDocument: 200_000,
  maxDepth: 64,
};

/** Kinds of the built-in API groups. A kind of one of these groups not listed here is an error (a typo). */
const BUILTIN_KINDS: Readonly<Record<string, readonly string[]>> = {
  '': ['Pod', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'Namespace', 'PersistentVolumeClaim',
    'PersistentVolume', 'ReplicationController', 'PodTemplate', 'Endpoints', 'LimitRange', 'ResourceQuota',
    'Event', 'Node', 'Binding', 'ComponentStatus', 'List'],
  apps: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision'],
  batch: ['Job', 'CronJob'],
  'rbac.authorization.k8s.io': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  'networking.k8s.io': ['NetworkPolicy', 'Ingress', 'IngressClass', 'IPAddress', 'ServiceCIDR'],
  policy: ['PodDisruptionBudget', 'Eviction'],
  autoscaling: ['HorizontalPodAutoscaler', 'Scale'],
  'storage.k8s.io': ['StorageClass', 'CSIDriver', 'CSINode', 'CSIStorageCapacity', 'VolumeAttachment', 'VolumeAttributesClass'],
  'scheduling.k8s.io': ['PriorityClass', 'Workload'],
  'coordination.k8s.io': ['Lease', 'LeaseCandidate'],
  'admissionregistration.k8s.io': ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration',
    'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding'],
  'apiextensions.k8s.io': ['CustomResourceDefinition'],
  'apiregistration.k8s.io': ['APIService'],
  'certificates.k8s.io': ['CertificateSigningRequest', 'ClusterTrustBundle', 'PodCertificateRequest'],
  'discovery.k8s.io': ['EndpointSlice'],
  'node.k8s.io': ['RuntimeClass'],
  'events.k8s.io': ['Event'],
  'resource.k8s.io': ['ResourceClaim', 'ResourceClaimTemplate', 'DeviceClass', 'ResourceSlice', 'DeviceTaintRule'],
  'flowcontrol.apiserver.k8s.io': ['FlowSchema', 'PriorityLevelConfiguration'],
  'storagemigration.k8s.io': ['StorageVersionMigration'],
};

function malformed(message: string): CraGateError {
  return new CraGateError('MalformedSecureDefaults', message);
}

function tooLarge(message: string): CraGateError {
  return new CraGateError('SecureDefaultsTooLarge', message);
}

/** The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Whether `kind` is known for a built-in group; undefined when the group is not built in (a CRD). */
export function isKnownKind(apiVersion: string, kind: string): boolean | undefined {
  const group = apiGroup(apiVersion);
  const kinds = Object.hasOwn(BUILTIN_KINDS, group) ? BUILTIN_KINDS[group] : undefined;
  return kinds ? kinds.includes(kind) : undefined;
}

/**
 * Copy a js-yaml result into a plain JSON tree, bounded. Aliases are expanded (each use counts against the
 * budget), Dates become ISO strings, binary becomes base64, anything else non-JSON is rejected.
 */
export function toPlainJson(value: unknown, where: string, limits: ParseLimits = DEFAULT_LIMITS): unknown {
  let nodes = 0;
  const copy = (v: unknown, depth: number): unknown => {
    if (++nodes > limits.maxNodesPerDocument) {
      throw tooLarge(`${where}: more than ${limits.maxNodesPerDocument} values (after expanding YAML aliases); split or shrink it`);
    }
    if (depth > limits.maxDepth) throw tooLarge(`${where}: nested deeper than ${limits.maxDepth} levels`);
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString().replace('.000Z', 'Z');
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1));
    if (typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // Own, enumerable data keys only; `__proto__` is kept as a plain key without touching the prototype.
        Object.defineProperty(out, k, { value: copy(x, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    throw malformed(`${where}: unsupported YAML value of type ${typeof v}`);
  };
  return copy(value, 0);
}

function yamlError(err: unknown, where: string): CraGateError {
  const pos = yamlErrorPosition(err);
  if (pos) return malformed(`${where}: invalid YAML at line ${pos.line}, column ${pos.column}: ${pos.reason}`);
  return malformed(`${where}: invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
}

function checkSize(text: string, where: string, limits: ParseLimits): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxFileBytes) throw tooLarge(`${where}: ${bytes} bytes exceeds the limit of ${limits.maxFileBytes}`);
}

export interface TextFile {
  readonly name: string;
  readonly text: string;
}

/**
 * Parse manifest files into Kubernetes objects. Empty documents (`---` with nothing, comments) are skipped;
 * `v1 List` objects are flattened into their items.
 */
export function parseManifests(files: readonly TextFile[], limits: ParseLimits = DEFAULT_LIMITS): ManifestDoc[] {
  const docs: ManifestDoc[] = [];
  const push = (object: unknown, file: string, position: number, where: string): void => {
    if (docs.length >= limits.maxDocuments) {
      throw tooLarge(`manifests hold more than ${limits.maxDocuments} objects; split the release or raise the limit`);
    }
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      throw malformed(`${where}: a document must be a Kubernetes object (a YAML mapping), got ${Array.isArray(object) ? 'a list' : typeof object}`);
    }
    const o = object as Record<string, unknown>;
    const { apiVersion, kind } = o;
    if (typeof apiVersion !== 'string' || apiVersion.trim() === '') throw malformed(`${where}: missing apiVersion`);
    if (typeof kind !== 'string' || kind.trim() === '') throw malformed(`${where}: missing kind`);
    if (isKnownKind(apiVersion, kind) === false) {
      const group = apiGroup(apiVersion) || 'core';
      throw malformed(`${where}: unknown kind "${kind}" in the built-in API group ${group} (${apiVersion}); a typo?`);
    }
    const meta = o.metadata;
    const name = typeof meta === 'object' && meta !== null && typeof (meta as Record<string, unknown>).name === 'string'
      ? ((meta as Record<string, unknown>).name as string)
      : typeof meta === 'object' && meta !== null && typeof (meta as Record<string, unknown>).generateName === 'string'
        ? `${(meta as Record<string, unknown>).generateName as string}*`
        : '?';
    if (kind === 'List' && apiGroup(apiVersion) === '') {
      const items = o.items;
      if (!Array.isArray(items)) throw malformed(`${where}: a List needs an items array`);
      items.forEach((item, i) => push(item, file, position, `${where} item ${i}`));
      return;
    }
    docs.push({ index: docs.length, file, position, object: o, apiVersion, kind, name });
  };

  for (const f of files) {
    const where = `manifests ${f.name}`;
    checkSize(f.text, where, limits);
    let raw: unknown[];
    try {
      raw = loadYamlAll(f.text, f.name);
    } catch (err) {
      throw yamlError(err, where);
    }
    raw.forEach((doc, position) => {
      if (doc === null || doc === undefined) return;
      const docWhere = `${where} document ${position + 1}`;
      push(toPlainJson(doc, docWhere, limits), f.name, position, docWhere);
    });
  }
  return docs;
}

/** Parse one settings file: JSON (when it looks like JSON) or a single YAML document. */
export function parseSettings(file: TextFile, limits: ParseLimits = DEFAULT_LIMITS): SettingsFile {
  const where = `settings ${file.name}`;
  checkSize(file.text, where, limits);
  const trimmed = file.text.trimStart();
  let raw: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      raw = JSON.parse(file.text);
    } catch (err) {
      // JSON is YAML too; fall back so that flow-style YAML still parses, and report the YAML error otherwise.
      try {
        raw = loadYaml(file.text, file.name);
      } catch {
        throw malformed(`${where}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } else {
    try {
      raw = loadYaml(file.text, file.name);
    } catch (err) {
      throw yamlError(err, where);
    }
  }
  if (raw === undefined || raw === null) throw malformed(`${where}: the file is empty`);
  if (typeof raw !== 'object') throw malformed(`${where}: settings must be a mapping or a list, got a ${typeof raw}`);
  return { name: file.name, data: toPlainJson(raw, where, limits) };
}
