/**
 * The no-op floor for bench/load.ts: a minimal controller on the same client library as the operator
 * (@kubernetes/client-node) that lists+watches ProductReleases in one namespace and patches each one's status
 * once (decision Approved, observedGeneration) with a merge patch on the status subresource, `--concurrency`
 * patches in flight (default 4, the operator's default), on the operator's transport: API requests through
 * operator/kube/pool.ts (one keep-alive pool per TLS identity), the watch on its own connection (the library's
 * `Watch`, as operator/kube/informer.ts). No evaluation, no Events, no metrics, no logging per
 * object: what this machine and apiserver allow for "see a release, write its status".
 *
 *   KUBECONFIG=... node bench/lib/noop-controller.ts --namespace NS [--concurrency 4]
 * Prints `ready` once its first list is done; exits on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { apiClient } from '../../operator/kube/pool.ts';

const { values } = parseArgs({ options: { namespace: { type: 'string' }, concurrency: { type: 'string' } } });
const ns = values.namespace;
if (!ns) throw new Error('--namespace is required');
const concurrency = Number(values.concurrency ?? 4);
const kc = new KubeConfig();
kc.loadFromDefault();
// The operator's transport (operator/kube/pool.ts), so pooling is not counted as the operator's advantage.
const api = apiClient(kc, CustomObjectsApi);
const group = 'cra-gate.dev';
const version = 'v1alpha1';
const plural = 'productreleases';

interface Obj { metadata: { name: string; generation?: number; resourceVersion?: string }; status?: { decision?: string } }
const done = new Set<string>();
const queued = new Set<string>();
const queue: Obj[] = [];
let running = 0;

function offer(o: Obj): void {
  const n = o.metadata.name;
  if (o.status?.decision || done.has(n) || queued.has(n)) return;
  queued.add(n);
  queue.push(o);
  pump();
}

function pump(): void {
  while (running < concurrency && queue.length > 0) {
    const o = queue.shift()!;
    running++;
    void patch(o).finally(() => {
      running--;
      pump();
    });
  }
}

async function patch(o: Obj): Promise<void> {
  const name = o.metadata.name;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await api.patchNamespacedCustomObjectStatus(
        { group, version, namespace: ns!, plural, name, body: { status: { decision: 'Approved', observedGeneration: o.metadata.generation } }, fieldManager: 'noop' },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      done.add(name);
      queued.delete(name);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
  queued.delete(name);
}

const list = (await api.listNamespacedCustomObject({ group, version, namespace: ns, plural })) as { items: Obj[]; metadata: { resourceVersion: string } };
for (const o of list.items) offer(o);
const watch = new Watch(kc);
// The library's 30 s inactivity timer would end a quiet watch; this process lives for one burst only.
(watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 3_600_000;
await watch.watch(`/apis/${group}/${version}/namespaces/${ns}/${plural}`, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 3600 },
  (type: string, o: Obj) => {
    if (type === 'ADDED' || type === 'MODIFIED') offer(o);
  },
  (err: unknown) => {
    process.stderr.write(err ? `noop watch ended: ${(err as Error).message}\n` : 'noop watch closed by the server\n');
    process.exit(err ? 1 : 0);
  });
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
