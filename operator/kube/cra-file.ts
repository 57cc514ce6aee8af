/**
 * Writes a release's CRA file into a ConfigMap "<release>-cra-file" in the release's namespace with server-side
 * apply (field manager `cra-gate`), owned by the ProductRelease (garbage-collected with it). The last content
 * digest written per release uid is remembered (bounded), so an unchanged file is not written again.
 */
import { ApiException, CoreV1Api, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { ProductRelease } from '../api/types.ts';
import { apiError } from './api-errors.ts';
import { requestOptions } from './request.ts';
import { FIELD_MANAGER } from './status.ts';
import { apiClient } from './pool.ts';

export const CRA_FILE_DIGEST_ANNOTATION = 'cra-gate.dev/cra-file-digest';
const MAX_REMEMBERED = 50_000;

/** The ConfigMap's name: "<release>-cra-file", shortened with a hash when that exceeds 253 characters. */
export function craFileConfigMapName(release: string): string {
  const name = `${release}-cra-file`;
  if (name.length <= 253) return name;
  return `${release.slice(0, 253 - 9 - 13)}-${createHash('sha256').update(release).digest('hex').slice(0, 12)}-cra-file`;
}

export interface CraFileSink {
  /** Writes (or leaves alone when `digest` is the one last written) the file's ConfigMap; `data` is called only to write. */
  apply(release: ProductRelease, data: () => Readonly<Record<string, string>>, digest: string, signal?: AbortSignal): Promise<boolean>;
}

export class CraFileWriter implements CraFileSink {
  private readonly api: CoreV1Api;
  private readonly written = new Map<string, string>();

  constructor(kubeConfig: KubeConfig) {
    this.api = apiClient(kubeConfig, CoreV1Api);
  }

  async apply(release: ProductRelease, data: () => Readonly<Record<string, string>>, digest: string, signal?: AbortSignal): Promise<boolean> {
    const uid = release.metadata.uid;
    const namespace = release.metadata.namespace;
    const name = release.metadata.name;
    if (!uid || !namespace || !name) return false;
    if (this.written.get(uid) === digest) return false;
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: craFileConfigMapName(name),
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'cra-gate', 'app.kubernetes.io/component': 'cra-file' },
        annotations: { [CRA_FILE_DIGEST_ANNOTATION]: digest },
        ownerReferences: [{ apiVersion: release.apiVersion, kind: release.kind, name, uid, controller: true, blockOwnerDeletion: false }],
      },
      data: data(),
    };
    try {
      await this.api.patchNamespacedConfigMap(
        { name: body.metadata.name, namespace, body, fieldManager: FIELD_MANAGER, force: true },
        requestOptions({ contentType: PatchStrategy.ServerSideApply, ...(signal ? { signal } : {}) }),
      );
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw apiError(err, `CRA file ConfigMap of ${name}`);
    }
    this.written.delete(uid);
    this.written.set(uid, digest);
    if (this.written.size > MAX_REMEMBERED) this.written.delete(this.written.keys().next().value!);
    return true;
  }
}
