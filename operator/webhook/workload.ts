/**
 * Where the images of a workload are: a Pod's spec, a pod controller's template (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, ReplicationController, Job), a CronJob's job template. Every container list counts:
 * containers, initContainers, ephemeralContainers. Nothing is cut: a workload beyond a limit is reported as such
 * (and denied in enforce, see ./admission.ts), never checked in part.
 */

export const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
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

/** Containers per list the webhook judges; more (or a malformed list) is a violation, not a partial check. */
export const MAX_CONTAINERS = 512;

export interface WorkloadImages {
  images: ContainerImage[];
  /** Why the images could not all be read (over a limit, malformed); undefined when they were. */
  unreadable?: string;
}

export function imagesOf(spec: PodSpecLike | undefined): WorkloadImages {
  const images: ContainerImage[] = [];
  if (!spec) return { images };
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const cs = spec[list] as unknown;
    if (cs === undefined || cs === null) continue;
    if (!Array.isArray(cs)) return { images, unreadable: `spec.${list} is not a list` };
    if (cs.length > MAX_CONTAINERS) return { images, unreadable: `spec.${list} has ${cs.length} entries, more than the ${MAX_CONTAINERS} the webhook checks` };
    for (const [i, c] of (cs as unknown[]).entries()) {
      if (!c || typeof c !== 'object') return { images, unreadable: `spec.${list}[${i}] is not an object` };
      const { name, image } = c as { name?: unknown; image?: unknown };
      if (image === undefined || image === null || image === '') continue;
      if (typeof image !== 'string') return { images, unreadable: `spec.${list}[${i}].image is not a string` };
      images.push({ where: `${list}[${i}]`, container: typeof name === 'string' && name ? name : String(i), image });
    }
  }
  return { images };
}
