/**
 * What the informers cache of a ProductRelease or ReleasePolicy (issue 16): only what the operator reads — reconcile
 * (spec, status, identity, generation, labels), the admission webhook (status: decision, attestation, checks) and
 * the metrics (status: checks, exploited, coverage, summary, conformity; spec: product, version, support end).
 *
 *  - metadata keeps name, namespace, uid, resourceVersion, generation, labels, annotations (without kubectl's
 *    last-applied-configuration copy of the whole object), creation and deletion timestamps; managedFields,
 *    ownerReferences, finalizers and the rest are dropped;
 *  - the strings of spec and status (and apiVersion, kind, namespace, creation time, and a decision envelope's payload
 *    type and key ids — not its payload or signatures) are interned, and equal check results (status.checks[]) become
 *    one frozen object: thousands of releases carry the same check ids, results,
 *    reasons, messages, CRA references and condition texts, and JSON.parse gives each its own copy. A bounded table
 *    makes equal strings one string (values are unchanged: a reader cannot tell).
 *
 * Readers take the projected types (`CachedRelease`, `CachedPolicy`): a reader that needed a dropped field would not
 * compile. The projection is applied in place to the object the watch or list just decoded (it is ours alone).
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';

/** The metadata fields a reader of the cache may use. */
export type CachedMetadata = Pick<
  V1ObjectMeta,
  'name' | 'namespace' | 'uid' | 'resourceVersion' | 'generation' | 'labels' | 'annotations' | 'creationTimestamp' | 'deletionTimestamp'
>;

export type Cached<T extends KubernetesObject> = Omit<T, 'metadata'> & { metadata: CachedMetadata };
export type CachedRelease = Cached<ProductRelease>;
export type CachedPolicy = Cached<ReleasePolicy>;

const KEPT_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'labels', 'annotations', 'creationTimestamp', 'deletionTimestamp'] as const;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Strings longer than this are rarely shared (signatures, payloads): not interned. */
const MAX_INTERNED_LENGTH = 512;
/** Keys whose values are unique per object or per write: never interned (they would only fill the table). */
const UNIQUE_KEYS = new Set(['attestation', 'uid', 'resourceVersion', 'evaluationSequence']);

/** A bounded intern table: equal strings become one; when full it starts afresh (already shared strings stay shared). */
export class StringInterner {
  private table = new Map<string, string>();
  private readonly max: number;

  constructor(max = 65_536) {
    this.max = max;
  }

  intern(s: string): string {
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const hit = this.table.get(s);
    if (hit !== undefined) return hit;
    if (this.table.size >= this.max) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  get size(): number {
    return this.table.size;
  }

  private records = new Map<string, object>();

  /**
   * One frozen object for every equal JSON record (a check result: thousands of releases carry the same id, result,
   * reason, message and CRA references). Records whose JSON is longer than MAX_SHARED_RECORD pass through unshared;
   * the table is bounded like the strings'. Shared records are frozen: a reader that tried to change one in place
   * would throw instead of changing every release that shares it.
   */
  internRecord<T extends object>(record: T): T {
    const key = JSON.stringify(record);
    if (key.length > MAX_SHARED_RECORD) return record;
    const hit = this.records.get(key);
    if (hit !== undefined) return hit as T;
    if (this.records.size >= MAX_SHARED_RECORDS) this.records = new Map();
    deepFreeze(record);
    this.records.set(key, record);
    return record;
  }

  get recordCount(): number {
    return this.records.size;
  }
}

/** A check result's JSON longer than this is not shared (its key would cost more than sharing saves). */
const MAX_SHARED_RECORD = 2048;
const MAX_SHARED_RECORDS = 4096;

function deepFreeze(v: unknown, depth = 0): void {
  if (v === null || typeof v !== 'object' || depth > 16) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x, depth + 1);
}

const shared = new StringInterner();

/** Replaces every string inside `value` (objects and arrays, in place) by its interned copy. */
function internDeep(value: unknown, interner: StringInterner, depth = 0): unknown {
  if (typeof value === 'string') return interner.intern(value);
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = internDeep(value[i], interner, depth + 1);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (k === 'attestation') internEnvelope(obj[k], interner);
    else if (!UNIQUE_KEYS.has(k)) obj[k] = internDeep(obj[k], interner, depth + 1);
  }
  return value;
}

/**
 * A DSSE envelope: its payload and signatures are unique per write (not interned), but its payload type and the
 * signing key ids are the same on every release a replica signs.
 */
function internEnvelope(env: unknown, interner: StringInterner): void {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return;
  const e = env as { payloadType?: unknown; signatures?: unknown };
  if (typeof e.payloadType === 'string') e.payloadType = interner.intern(e.payloadType);
  if (!Array.isArray(e.signatures)) return;
  for (const sig of e.signatures as unknown[]) {
    if (sig !== null && typeof sig === 'object' && typeof (sig as { keyid?: unknown }).keyid === 'string') {
      (sig as { keyid: string }).keyid = interner.intern((sig as { keyid: string }).keyid);
    }
  }
}

function projectMetadata(md: V1ObjectMeta | undefined, interner: StringInterner): CachedMetadata {
  const out: Record<string, unknown> = {};
  if (!md) return out;
  for (const k of KEPT_METADATA) {
    const v = md[k];
    if (v === undefined) continue;
    if (k === 'annotations') {
      const { [LAST_APPLIED]: _l, ...rest } = v as Record<string, string>;
      if (Object.keys(rest).length > 0) out.annotations = internDeep(rest, interner);
    } else if (k === 'labels') out.labels = internDeep(v, interner);
    // Shared by every release of a namespace, and by those created in the same second.
    else if ((k === 'namespace' || k === 'creationTimestamp') && typeof v === 'string') out[k] = interner.intern(v);
    else out[k] = v;
  }
  return out;
}

/** The cached form of an object: projected metadata, interned spec and status (other top-level fields as they are). */
export function projectObject<T extends KubernetesObject>(obj: T, interner: StringInterner = shared): Cached<T> {
  const o = obj as T & { spec?: unknown; status?: unknown };
  const out = { ...o, metadata: projectMetadata(o.metadata, interner) } as Cached<T> & { spec?: unknown; status?: unknown };
  // The same two strings on every object of a kind, each its own copy after JSON.parse.
  if (typeof o.apiVersion === 'string') out.apiVersion = interner.intern(o.apiVersion);
  if (typeof o.kind === 'string') out.kind = interner.intern(o.kind);
  if (o.spec !== undefined) out.spec = internDeep(o.spec, interner);
  if (o.status !== undefined) {
    out.status = internDeep(o.status, interner);
    const checks = (out.status as { checks?: unknown } | null)?.checks;
    if (Array.isArray(checks)) {
      for (let i = 0; i < checks.length; i++) {
        const c: unknown = checks[i];
        if (c !== null && typeof c === 'object') checks[i] = interner.internRecord(c);
      }
    }
  }
  return out;
}

export const projectRelease = (r: ProductRelease): CachedRelease => projectObject(r);
export const projectPolicy = (p: ReleasePolicy): CachedPolicy => projectObject(p);
