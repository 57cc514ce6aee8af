/**
 * conformity.route — Art. 32 with Art. 7(1) and Art. 8(1): the conformity assessment procedure the manufacturer
 * used is one the Regulation allows for the product's category (Annex III class I / class II, Annex IV, or
 * neither), and the notified body / certificate it implies is identified.
 *
 * - default (Art. 32(1)): module A, B+C, H, or a European cybersecurity certification scheme (Art. 27(9)).
 * - Annex III class I (Art. 32(2)): module A only where harmonised standards, common specifications or European
 *   cybersecurity certification schemes at assurance level at least "substantial" were applied IN FULL;
 *   otherwise module B+C or H.
 * - Annex III class II (Art. 32(3)): module B+C, H, or a European cybersecurity certificate at assurance level at
 *   least "substantial".
 * - Annex IV (Art. 32(4), Art. 8(1)): a European cybersecurity certificate where a delegated act under Art. 8(1)
 *   requires it (policy param `certificateRequired` lists those categories: the act is not in this code's text);
 *   otherwise as class II.
 * - Free and open-source software in Annex III (Art. 32(5)): any procedure of Art. 32(1), provided the technical
 *   documentation is made public when the product is placed on the market.
 *
 * Modules B+C and H involve a notified body (Annex VIII Parts II–IV): its four-digit identification number and
 * the certificate (EU-type examination certificate / quality-system approval) must be named, as the EU
 * declaration of conformity must name them (Annex V(7)). A certificate route names the certificate.
 */
import { craBasis, fail, isBlank, pass, errorOutcome } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import type { Reason } from '../errors.ts';
import { CLASS_LABEL, CONFORMITY_MODULES, productCategory, type ConformityModule, type ProductCategory } from '../conformity/categories.ts';
import { isObject } from '../util/json.ts';

const FULL_KINDS = new Set(['HarmonisedStandard', 'CommonSpecification', 'CertificationScheme']);

export interface ConformityStandard {
  readonly kind?: string;
  readonly reference?: string;
  readonly application?: string;
  readonly assuranceLevel?: string;
}

export interface ConformitySpec {
  readonly module?: string;
  readonly standards?: readonly ConformityStandard[];
  readonly notifiedBody?: { readonly number?: string; readonly name?: string };
  readonly certificate?: { readonly id?: string; readonly url?: string };
  readonly freeAndOpenSource?: { readonly technicalDocumentationUrl?: string };
}

/** Standards applied in full that open module A for class I (Art. 32(2)); a scheme counts from "substantial". */
function standardsOf(spec: ConformitySpec): ConformityStandard[] {
  return Array.isArray(spec.standards) ? (spec.standards as unknown[]).filter(isObject) : [];
}

export function appliedInFull(spec: ConformitySpec): ConformityStandard[] {
  return standardsOf(spec).filter(
    (s) =>
      FULL_KINDS.has(s.kind ?? '') &&
      s.application === 'Full' &&
      !isBlank(s.reference) &&
      (s.kind !== 'CertificationScheme' || s.assuranceLevel === 'substantial' || s.assuranceLevel === 'high'),
  );
}

export interface RouteAssessment {
  readonly category: ProductCategory;
  readonly module: ConformityModule;
  readonly allowed: readonly ConformityModule[];
  /** Where the allowed set comes from, e.g. `Art. 32(2)`. */
  readonly basis: string;
}

/** The procedures Art. 32 allows for this category and declaration. */
export function allowedModules(category: ProductCategory, spec: ConformitySpec, certificateRequired: ReadonlySet<string>): { allowed: ConformityModule[]; basis: string } {
  const foss = isObject(spec.freeAndOpenSource) && !isBlank(spec.freeAndOpenSource.technicalDocumentationUrl);
  switch (category.cls) {
    case 'default':
      return { allowed: ['A', 'B+C', 'H', 'EUCC'], basis: 'Art. 32(1)' };
    case 'important-class-i':
      if (foss) return { allowed: ['A', 'B+C', 'H', 'EUCC'], basis: 'Art. 32(5) (free and open-source software, technical documentation public)' };
      if (appliedInFull(spec).length > 0) return { allowed: ['A', 'B+C', 'H', 'EUCC'], basis: 'Art. 32(1), (2) (standards applied in full)' };
      return { allowed: ['B+C', 'H'], basis: 'Art. 32(2) (no harmonised standard, common specification or scheme applied in full)' };
    case 'important-class-ii':
      if (foss) return { allowed: ['A', 'B+C', 'H', 'EUCC'], basis: 'Art. 32(5) (free and open-source software, technical documentation public)' };
      return { allowed: ['B+C', 'H', 'EUCC'], basis: 'Art. 32(3)' };
    case 'critical':
      if (certificateRequired.has(category.id)) return { allowed: ['EUCC'], basis: 'Art. 8(1), Art. 32(4)(a) (certificate required by delegated act)' };
      return { allowed: ['B+C', 'H', 'EUCC'], basis: 'Art. 8(1) last subparagraph, Art. 32(4)(b), (3)' };
  }
}

const C = '/spec/conformity';

export const conformityRoute: CheckDefinition = {
  id: 'conformity.route',
  title: 'Product category and conformity assessment route',
  // The categories' technical descriptions are Commission Implementing Regulation (EU) 2025/2392, adopted
  // under Art. 7(4): binding law, cited in `reads`, not guidance.
  cra: ['Art. 7(1)', 'Art. 7(4)', 'Art. 8(1)', 'Art. 32', 'Annex III', 'Annex IV', 'Annex VIII'],
  standards: [],
  reads: 'spec.product.category (categories as described by Implementing Regulation (EU) 2025/2392), spec.conformity',
  passRule:
    'a category is declared; the procedure in spec.conformity.module is one Art. 32 allows for it; B+C and H name the notified body (4-digit number) and certificate; EUCC names the certificate',
  fix: 'Set spec.product.category (or "default") and spec.conformity.module; for class I with module A list the harmonised standards applied in full; for B+C/H add notifiedBody.number and certificate.',
  inForceFrom: '2027-12-11',
  params: ['certificateRequired'],
  run(ctx: CheckContext): CheckOutcome {
    const req = ctx.params.certificateRequired;
    if (req !== undefined && (!Array.isArray(req) || req.some((x) => typeof x !== 'string' || productCategory(x)?.cls !== 'critical'))) {
      return errorOutcome('InvalidCheckParams', 'params.certificateRequired must list Annex IV category ids (e.g. smartcard-secure-element)');
    }
    const certificateRequired = new Set((req as string[] | undefined) ?? []);
    const spec = ctx.release.spec as { product?: { category?: unknown }; conformity?: ConformitySpec };
    const rawCategory = spec.product?.category;
    if (rawCategory === undefined || rawCategory === '') {
      return fail('NoProductCategory', 'spec.product.category is not set: declare the Annex III/IV category of the core functionality, or "default" (Art. 7(1), 8(1))', {
        findings: [{ pointer: '/spec/product/category', message: 'missing' }],
      });
    }
    const category = productCategory(rawCategory);
    if (!category) {
      return fail('NoProductCategory', `spec.product.category ${typeof rawCategory === 'string' ? `"${rawCategory.slice(0, 64)}"` : `(a ${typeof rawCategory})`} is not a known category`, {
        findings: [{ pointer: '/spec/product/category', message: 'unknown category id' }],
      });
    }
    const conformity: ConformitySpec = isObject(spec.conformity) ? spec.conformity : {};
    const module = conformity.module;
    if (module === undefined || !(CONFORMITY_MODULES as readonly string[]).includes(module)) {
      return fail('NoConformityRoute', `${category.ref} product (${CLASS_LABEL[category.cls]}): spec.conformity.module does not name a procedure (A, B+C, H or EUCC) (Art. 32)`, {
        findings: [{ pointer: `${C}/module`, message: module === undefined ? 'missing' : `unknown procedure "${String(module).slice(0, 32)}"` }],
      });
    }
    const m = module as ConformityModule;
    const { allowed, basis } = allowedModules(category, conformity, certificateRequired);
    const findings: Finding[] = [];
    let reason: Reason | undefined;
    if (!allowed.includes(m)) {
      reason = 'ConformityRouteNotAllowed';
      const partial = standardsOf(conformity).filter((s) => s.application === 'Partial').map((s) => s.reference).filter((r): r is string => typeof r === 'string');
      const why = category.cls === 'important-class-i' && m === 'A'
        ? `module A needs harmonised standards, common specifications or a scheme (≥ substantial) applied in full${partial.length ? `; applied in part only: ${partial.slice(0, 3).join(', ')}` : ''}`
        : `${basis} allows ${allowed.join(', ')}`;
      findings.push({ pointer: `${C}/module`, message: `module ${m} is not allowed for this product (${CLASS_LABEL[category.cls]}): ${why}`, basis: craBasis(basis.split(' ')[0] === 'Art.' ? basis.split(/[ ,;]+/).slice(0, 2).join(' ') : 'Art. 32') });
    }
    if (m === 'B+C' || m === 'H') {
      const nb = isObject(conformity.notifiedBody) ? conformity.notifiedBody.number : undefined;
      if (typeof nb !== 'string' || !/^\d{4}$/.test(nb)) {
        reason ??= 'NotifiedBodyMissing';
        findings.push({ pointer: `${C}/notifiedBody/number`, message: `module ${m} involves a notified body: give its four-digit identification number (Annex V(7), Annex VIII)`, basis: craBasis('Annex V(7)') });
      }
    }
    const nbNumber: unknown = isObject(conformity.notifiedBody) ? conformity.notifiedBody.number : undefined;
    const cert: { id?: unknown; url?: unknown } = isObject(conformity.certificate) ? conformity.certificate : {};
    if (m !== 'A' && isBlank(cert.id) && isBlank(cert.url)) {
      reason ??= 'NotifiedBodyMissing';
      findings.push({ basis: craBasis('Annex V(7)'), pointer: `${C}/certificate`, message: `${m === 'EUCC' ? 'the European cybersecurity certificate' : `module ${m}'s certificate`} is not identified (id or url)` });
    }
    if (reason) return fail(reason, findings.map((f) => f.message).join('; '), { findings });
    const detail = m === 'A' ? '' : `, notified body/certificate ${typeof nbNumber === 'string' ? nbNumber : ''}${typeof cert.id === 'string' ? ` ${cert.id}` : ''}`.replace(/\s+$/, '');
    return pass(`${category.ref} (${CLASS_LABEL[category.cls]}): module ${m} allowed by ${basis}${detail}`);
  },
};
