/**
 * Where the images of a workload are: a Pod's spec, a pod controller's template (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job), a CronJob's job template. Every container list counts: containers,
 * initContainers, ephemeralContainers.
 */

export const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface PodSpecLike {
  serviceAccountName?: string;
  containers?: { name?: string; image?: string }[];
  initContainers?: { name?: string; image?: string }[];
  ephemeralContainers?: { name?: string; image?: string }[];
}

type Obj = Record<string, unknown> | undefined;

function at(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function isWorkloadKind(kind: string | undefined): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind ?? '');
}

/** The pod spec of a workload object, or undefined when the object has none. */
export function podSpecOf(kind: WorkloadKind, obj: Obj): PodSpecLike | undefined {
  const spec =
    kind === 'Pod' ? at(obj, 'spec') : kind === 'CronJob' ? at(obj, 'spec', 'jobTemplate', 'spec', 'template', 'spec') : at(obj, 'spec', 'template', 'spec');
  return spec && typeof spec === 'object' ? (spec) : undefined;
}

export interface ContainerImage {
  /** e.g. `containers[0]` / `initContainers[1]`, for messages. */
  where: string;
  container: string;
  image: string;
}

const MAX_CONTAINERS = 512;

export function imagesOf(spec: PodSpecLike | undefined): ContainerImage[] {
  const out: ContainerImage[] = [];
  if (!spec) return out;
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    cs.slice(0, MAX_CONTAINERS).forEach((c, i) => {
      if (c && typeof c.image === 'string') out.push({ where: `${list}[${i}]`, container: String(c.name ?? i), image: c.image });
    });
  }
  return out;
}
