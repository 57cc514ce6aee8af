/**
 * A control plane with the cra-gate CRDs installed, plus the small kubectl-driven helpers the
 * integration suites share: apply YAML, read a release, create unique namespaces, make releases.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { waitFor } from './wait.ts';
import type { ProductRelease } from '../../operator/api/types.ts';
import { policyFixture, policySpecs, releaseFixture } from '../fixtures/releases.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Cluster {
  cp: ControlPlane;
  /** kubectl that throws with stderr on failure and returns stdout. */
  kubectl(args: string[], input?: string): Promise<string>;
  apply(doc: unknown): Promise<void>;
  getRelease(namespace: string, name: string): Promise<ProductRelease>;
  namespace(prefix: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const cp = await startControlPlane();
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await cp.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  try {
    await kubectl(['apply', '-f', path.join(repoRoot, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/productreleases.cra-gate.dev', 'crd/releasepolicies.cra-gate.dev']);
    await kubectl(['create', 'namespace', 'cra-gate']);
    // The CRDs are served a moment after Established; wait until a list succeeds.
    await waitFor('productreleases to be served', async () => (await cp.kubectl(['get', 'productreleases', '-A'])).code === 0, { timeoutMs: 30_000 });
  } catch (err) {
    await cp.stop();
    throw err;
  }
  return {
    cp,
    kubectl,
    apply: async (doc) => {
      await kubectl(['apply', '-f', '-'], typeof doc === 'string' ? doc : JSON.stringify(doc));
    },
    getRelease: async (namespace, name) =>
      JSON.parse(await kubectl(['get', 'productrelease', '-n', namespace, name, '-o', 'json'])) as ProductRelease,
    namespace: async (prefix) => {
      const ns = `${prefix}-${randomBytes(3).toString('hex')}`;
      await kubectl(['create', 'namespace', ns]);
      return ns;
    },
    stop: () => cp.stop(),
  };
}

/** A release that passes every spec-only check of the baseline policy (the shared `compliant` fixture); `patch` overrides parts. */
export function compliantRelease(namespace: string, name: string, patch: Record<string, unknown> = {}): ProductRelease {
  return deepMerge(releaseFixture('compliant', namespace, name, { product: 'acme-router' }), patch) as ProductRelease;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b)) out[k] = v === null ? undefined : deepMerge(out[k], v);
    return out;
  }
  return b;
}

export function baselinePolicy(name = 'cra-baseline', overrides: Record<string, string> = {}): unknown {
  return policyFixture(policySpecs.baseline(overrides), name);
}

export function toYaml(doc: unknown): string {
  return yaml.dump(doc);
}

/** Waits until the release has a decision for its current generation satisfying `pred`. */
export async function waitForDecision(
  cluster: Cluster,
  namespace: string,
  name: string,
  pred: (r: ProductRelease) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<ProductRelease> {
  return waitFor(
    `release ${namespace}/${name} to reach the expected decision`,
    async () => {
      const r = await cluster.getRelease(namespace, name);
      const current = r.status?.decision && r.status.observedGeneration === r.metadata.generation;
      return current && pred(r) ? r : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
