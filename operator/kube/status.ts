/**
 * Writes status through the status subresource with a JSON merge patch (field manager `cra-gate`).
 *
 * The written status is the WHOLE status this operator means the object to have: every top-level key is sent
 * (lists such as `conditions` and `checks` are replaced whole by a merge patch), a top-level key the previous
 * status had and this one leaves out (`exploited` after the vulnerability is fixed, `attestation` when signing
 * is off) is sent as null, which removes it. Keys the caller did not know about (its cached copy was older, or
 * a hand-run `kubectl patch` added them) are removed by a follow-up JSON patch guarded by the resourceVersion
 * the write returned, so status converges to exactly what was written.
 *
 * Why a merge patch and not server-side apply: the API server then does no structured-merge-diff apply over the
 * object, and the write is the same kind of request as the no-op floor's (docs/benchmarks.md, issue 16). Objects
 * an older version wrote with server-side apply keep that managedFields entry; a merge patch never conflicts
 * with it.
 *
 * The write carries the object's resourceVersion as a precondition (`metadata.resourceVersion` in the patch):
 * a concurrent change makes the API server answer 409, and the reconcile is retried against the newer object.
 * The resourceVersion the write produced is returned, so the controller can recognise the watch event of its
 * own write (see controller.ts).
 */
import { ApiException, CustomObjectsApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.ts';
import { apiError } from './api-errors.ts';
import { requestOptions } from './request.ts';
import { pointerSegment } from '../util/json-pointer.ts';
import { apiClient } from './pool.ts';

export const FIELD_MANAGER = 'cra-gate';

export interface StatusTarget {
  plural: string;
  kind: string;
  namespace?: string | undefined;
  name: string;
  resourceVersion?: string | undefined;
}

/** What a successful status write produced. */
export interface StatusWritten {
  /** The object's resourceVersion after the write (the one its watch event will carry). */
  resourceVersion: string;
  generation?: number | undefined;
}

export interface StatusWriteOptions {
  signal?: AbortSignal;
  /** The status the caller last saw: its top-level keys missing from the new status are removed in the same write. */
  previous?: object | undefined;
}

interface Obj {
  metadata?: { resourceVersion?: string; generation?: number };
  status?: Record<string, unknown>;
}

/** The status without top-level undefined/null values (what the object's status is to hold). */
export function applyConfiguration(status: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined && v !== null));
}

/** The merge patch's status: `applied`, plus null for each top-level key of `previous` that `applied` lacks. */
export function mergePatchStatus(applied: Record<string, unknown>, previous: object | undefined): Record<string, unknown> {
  const removed = Object.keys(previous ?? {}).filter((k) => !(k in applied));
  return removed.length === 0 ? applied : { ...applied, ...Object.fromEntries(removed.map((k) => [k, null])) };
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = apiClient(kubeConfig, CustomObjectsApi);
  }

  /**
   * Writes `status` as the object's complete status. Resolves undefined when the object no longer exists;
   * throws a CraGateError classified by {@link apiError} otherwise (Conflict on a stale precondition).
   */
  async apply(target: StatusTarget, status: object, opts: StatusWriteOptions = {}): Promise<StatusWritten | undefined> {
    const applied = applyConfiguration(status);
    const body = {
      ...(target.resourceVersion ? { metadata: { resourceVersion: target.resourceVersion } } : {}),
      status: mergePatchStatus(applied, opts.previous),
    };
    let obj: Obj;
    try {
      obj = (await this.send(target, body, PatchStrategy.MergePatch, opts.signal)) as Obj;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw apiError(err, `status write of ${target.name}`);
    }
    const stale = Object.keys(obj.status ?? {}).filter((k) => !(k in applied));
    if (stale.length > 0 && obj.metadata?.resourceVersion) {
      // Keys the caller did not know about: remove them, guarded by the version we just wrote.
      const ops = [
        { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
        ...stale.map((k) => ({ op: 'remove', path: `/status/${pointerSegment(k)}` })),
      ];
      try {
        obj = (await this.send(target, ops, PatchStrategy.JsonPatch, opts.signal)) as Obj;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw apiError(err, `removing stale status keys of ${target.name}`);
      }
    }
    return { resourceVersion: obj.metadata?.resourceVersion ?? '', generation: obj.metadata?.generation };
  }

  private send(target: StatusTarget, body: unknown, contentType: string, signal: AbortSignal | undefined): Promise<unknown> {
    const options = requestOptions({ contentType, ...(signal ? { signal } : {}) });
    const common = { group: GROUP, version: VERSION, plural: target.plural, name: target.name, body, fieldManager: FIELD_MANAGER };
    return target.namespace
      ? this.api.patchNamespacedCustomObjectStatus({ ...common, namespace: target.namespace }, options)
      : this.api.patchClusterCustomObjectStatus(common, options);
  }
}
