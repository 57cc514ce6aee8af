// The cra-gate API (group cra-gate.dev, version v1alpha1). Spec and status types are generated from the CRDs in
// crds/ into types.gen.ts (`npm run gen:types`); this file adds the object envelopes and the names.
import type { V1ListMeta, V1ObjectMeta } from '@kubernetes/client-node';
import type {
  ProductReleaseSpec,
  ProductReleaseStatus,
  ReleasePolicySpec,
  ReleasePolicyStatus,
} from './types.gen.ts';

export type * from './types.gen.ts';

export const GROUP = 'cra-gate.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const PRODUCT_RELEASE_KIND = 'ProductRelease';
export const PRODUCT_RELEASE_PLURAL = 'productreleases';
export const PRODUCT_RELEASE_SHORT_NAME = 'prel';
export const RELEASE_POLICY_KIND = 'ReleasePolicy';
export const RELEASE_POLICY_PLURAL = 'releasepolicies';
export const RELEASE_POLICY_SHORT_NAME = 'rpol';

/** Check ids are dot-separated lower-case words, e.g. "update.support-period" (same pattern as the CRD). */
export const CHECK_ID_PATTERN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** A release of a product with digital elements (namespaced; short name prel). */
export interface ProductRelease {
  apiVersion: typeof API_VERSION;
  kind: typeof PRODUCT_RELEASE_KIND;
  metadata: V1ObjectMeta;
  spec: ProductReleaseSpec;
  status?: ProductReleaseStatus;
}

/** The checks, trust roots, feeds and waivers that gate releases (cluster-scoped; short name rpol). */
export interface ReleasePolicy {
  apiVersion: typeof API_VERSION;
  kind: typeof RELEASE_POLICY_KIND;
  metadata: V1ObjectMeta;
  spec: ReleasePolicySpec;
  status?: ReleasePolicyStatus;
}

export interface ProductReleaseList {
  apiVersion: typeof API_VERSION;
  kind: 'ProductReleaseList';
  metadata: V1ListMeta;
  items: ProductRelease[];
}

export interface ReleasePolicyList {
  apiVersion: typeof API_VERSION;
  kind: 'ReleasePolicyList';
  metadata: V1ListMeta;
  items: ReleasePolicy[];
}
