/**
 * Writes status through the status subresource with a JSON merge patch. The patch carries the
 * object's resourceVersion as a precondition (a guarded patch): a concurrent spec change makes the
 * API server answer 409, and the reconcile is retried against the newer object.
 */
import {
  ApiException,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.ts';
import { CraGateError } from '../errors.ts';

export interface StatusTarget {
  plural: string;
  namespace?: string;
  name: string;
  resourceVersion?: string;
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Returns false when the object no longer exists. Throws CraGateError(Conflict) on a stale precondition. */
  async patch(target: StatusTarget, status: unknown): Promise<boolean> {
    const body = {
      metadata: target.resourceVersion ? { resourceVersion: target.resourceVersion } : {},
      status,
    };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      if (target.namespace) {
        await this.api.patchNamespacedCustomObjectStatus(
          { group: GROUP, version: VERSION, namespace: target.namespace, plural: target.plural, name: target.name, body, fieldManager: 'cra-gate' },
          options,
        );
      } else {
        await this.api.patchClusterCustomObjectStatus(
          { group: GROUP, version: VERSION, plural: target.plural, name: target.name, body, fieldManager: 'cra-gate' },
          options,
        );
      }
      return true;
    } catch (err) {
      if (err instanceof ApiException) {
        if (err.code === 404) return false;
        if (err.code === 409) {
          throw new CraGateError('Conflict', `status of ${target.name} changed concurrently; retrying`, { cause: err });
        }
        throw new CraGateError('ApiServerError', `status patch failed (HTTP ${err.code})`, { cause: err });
      }
      throw new CraGateError('ApiServerError', `status patch failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
