/**
 * Evidence collection: everything a check needs that takes IO is gathered here, before the pure
 * checks run. Each evidence family (SBOMs, shipped defaults, …) is a collector that reads through
 * `EvidenceSources` — the operator backs them with the API server, the offline CLI with files — and
 * contributes fields to `Evidence`. A collector never throws: failures become `evidence.errors`, and the
 * checks that needed the evidence report Error (fail closed).
 */
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import type { Evidence, EvidenceError } from '../types/evidence.ts';
import { errorMessage, reasonOf } from '../errors.ts';
import { collectSboms } from './sbom.ts';
import { collectSecureDefaults } from './secure-defaults.ts';
import { collectVulnFeeds } from './vuln.ts';
import { collectDisclosure } from './disclosure.ts';
import { collectSignatures } from './signatures.ts';
import { collectUserInformation } from './user-information.ts';
import type { EvidenceRuntime } from './runtime.ts';

export type { EvidenceRuntime } from './runtime.ts';

/** Where evidence comes from. All reads are bounded by the implementation (size, time). */
export interface EvidenceSources {
  /** The data of a ConfigMap, or undefined when it does not exist. */
  readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** The decoded data of a Secret, or undefined when it does not exist (signing keys, trusted roots, pull secrets). */
  readSecret?(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Cancels the reads and fetches of one collection (the operator binds a reconcile's signal here). */
  readonly signal?: AbortSignal;
}

export interface CollectContext {
  release: ProductRelease;
  policy: ReleasePolicy | undefined;
  sources: EvidenceSources;
  /** Network capability, caches and limits from the composition root (./runtime.ts). */
  runtime: EvidenceRuntime;
  now: Date;
  /** Aborted when the reconcile is cancelled (leadership lost, shutdown, deadline): every fetch stops. */
  signal?: AbortSignal;
}

/** A collector returns the evidence fields it contributes (and any errors it hit). */
export type Collector = (ctx: CollectContext) => Promise<Partial<Omit<Evidence, 'errors'>> & { errors?: EvidenceError[] }>;

/** Collectors run in order; each evidence family registers here (stateless: shared state is in `ctx.runtime`). */
export const collectors: Collector[] = [collectSboms, collectSecureDefaults, collectVulnFeeds, collectDisclosure, collectSignatures, collectUserInformation];

export async function collectEvidence(ctx: CollectContext, list: readonly Collector[] = collectors): Promise<Evidence> {
  const errors: EvidenceError[] = [];
  const out: Record<string, unknown> = {};
  for (const collect of list) {
    try {
      const { errors: errs, ...fields } = await collect(ctx);
      // Array fields several collectors contribute to (e.g. `sboms` from spec.sboms[] and from registries) are concatenated.
      for (const [k, v] of Object.entries<unknown>(fields)) out[k] = Array.isArray(out[k]) && Array.isArray(v) ? [...(out[k] as unknown[]), ...(v as unknown[])] : v;
      if (errs) errors.push(...errs);
    } catch (err) {
      errors.push({ source: collect.name || 'collector', reason: reasonOf(err) === 'Internal' ? 'EvidenceUnavailable' : reasonOf(err), message: errorMessage(err) });
    }
  }
  return { ...out, ...(errors.length ? { errors } : {}) };
}
