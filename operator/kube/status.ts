/**
 * Writes status through the status subresource with server-side apply (field manager `cra-gate`, force).
 *
 * The applied object is the WHOLE status this operator means the object to have: a top-level key it leaves
 * out (`exploited` after the vulnerability is fixed, `attestation` when signing is off) is removed, because
 * the field manager owned it and no longer applies it. Keys owned by no apply of ours (a status written by
 * an older version with a merge patch, or by a hand-run `kubectl patch`) are removed by a follow-up JSON
 * patch guarded by the resourceVersion the apply returned, so status converges to exactly what was applied.
 *
 * The apply carries the object's resourceVersion as a precondition: a concurrent change makes the API
 * server answer 409, and the reconcile is retried against the newer object. The resourceVersion the write
 * produced is returned, so the controller can recognise the watch event of its own write (see controller.ts).
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
}

interface Obj {
  metadata?: { resourceVersion?: string; generation?: number };
  status?: Record<string, unknown>;
}

/** The status without top-level undefined/null values (an apply configuration names only what it sets). */
export function applyConfiguration(status: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(status).filter(([, v]) => v !== undefined && v !== null));
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = apiClient(kubeConfig, CustomObjectsApi);
  }

  /**
   * Applies `status` as the object's complete status. Resolves undefined when the object no longer exists;
   * throws a CraGateError classified by {@link apiError} otherwise (Conflict on a stale precondition).
   */
  async apply(target: StatusTarget, status: object, opts: StatusWriteOptions = {}): Promise<StatusWritten | undefined> {
    const applied = applyConfiguration(status);
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: target.kind,
      metadata: {
        name: target.name,
        ...(target.namespace ? { namespace: target.namespace } : {}),
        ...(target.resourceVersion ? { resourceVersion: target.resourceVersion } : {}),
      },
      status: applied,
    };
    let obj: Obj;
    try {
      obj = (await this.send(target, body, PatchStrategy.ServerSideApply, opts.signal, true)) as Obj;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw apiError(err, `status apply of ${target.name}`);
    }
    const stale = Object.keys(obj.status ?? {}).filter((k) => !(k in applied));
    if (stale.length > 0 && obj.metadata?.resourceVersion) {
      // Keys another manager (or an older merge-patch writer) owns: remove them, guarded by the version we just wrote.
      const ops = [
        { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
        ...stale.map((k) => ({ op: 'remove', path: `/status/${pointerSegment(k)}` })),
      ];
      try {
        obj = (await this.send(target, ops, PatchStrategy.JsonPatch, opts.signal, false)) as Obj;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw apiError(err, `removing stale status keys of ${target.name}`);
      }
    }
    return { resourceVersion: obj.metadata?.resourceVersion ?? '', generation: obj.metadata?.generation };
  }

  private send(target: StatusTarget, body: unknown, contentType: string, signal: AbortSignal | undefined, apply: boolean): Promise<unknown> {
    const options = requestOptions({ contentType, ...(signal ? { signal } : {}) });
    const common = { group: GROUP, version: VERSION, plural: target.plural, name: target.name, body, fieldManager: FIELD_MANAGER, ...(apply ? { force: true } : {}) };
    return target.namespace
      ? this.api.patchNamespacedCustomObjectStatus({ ...common, namespace: target.namespace }, options)
      : this.api.patchClusterCustomObjectStatus(common, options);
  }
}
