/** Test helpers shared by the check, decision and engine tests (not used at runtime). */
import type { ProductRelease, ProductReleaseSpec } from './api.ts';
import type { CheckContext, Evidence } from './types.ts';

export function release(spec: Partial<ProductReleaseSpec> = {}, name = 'acme-router-2.4.0'): ProductRelease {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { name, namespace: 'acme', generation: 1 },
    spec: { product: { name: 'acme-router' }, version: '2.4.0', ...spec },
  };
}

/** A release that passes every first-wave check. */
export function goodRelease(overrides: Partial<ProductReleaseSpec> = {}): ProductRelease {
  return release({
    product: {
      name: 'acme-router',
      manufacturer: {
        name: 'ACME Networks GmbH',
        email: 'psirt@acme.example',
        url: 'https://acme.example',
        address: 'Musterstr. 1, 10115 Berlin, DE',
      },
    },
    placedOnMarket: '2028-01-15',
    policyRef: 'cra-baseline',
    updates: { channel: 'https://updates.acme.example/router/stable.json', automatic: true, supportEnd: '2033-01' },
    vulnerabilityHandling: { contact: 'mailto:psirt@acme.example' },
    ...overrides,
  });
}

export function ctx(
  rel: ProductRelease,
  params: Record<string, unknown> = {},
  now = new Date('2028-02-01T00:00:00Z'),
  evidence: Evidence = {},
): CheckContext {
  return { release: rel, params, now, evidence };
}
