/**
 * The release's CRA file ("dossier"), built from what the gate verified: the technical documentation of Annex
 * VII, a draft EU declaration of conformity (Annex V) and Art. 14 report drafts for every actively exploited
 * vulnerability. Pure: no IO, no clock (time comes from `now`). Every field either carries a value and the
 * evidence it came from, or is marked `toBeProvided` with what the manufacturer still has to supply — the gate
 * never invents content.
 */
import type { ProductRelease } from '../api/types.ts';
import type { Evidence } from '../checks/types.ts';
import type { Evaluation } from '../engine/evaluate.ts';
import { CLASS_LABEL, MODULE_LABEL, productCategory } from '../conformity/categories.ts';
import { allowedModules, type ConformitySpec } from '../checks/conformity.ts';
import type { InfoItem, UserInformationSpec } from '../conformity/user-information.ts';
import { ANNEX_II_ITEMS } from '../conformity/user-information.ts';
import { buildArt14Drafts, type Art14Draft } from './art14.ts';

/** One statement of the file: a value with its source, or a gap the manufacturer fills. */
export interface Field {
  readonly label: string;
  /** The CRA point this field answers, e.g. `Annex VII(1)(a)`. */
  readonly ref: string;
  readonly value?: string;
  /** Where the value comes from: a spec field, an evidence digest, a check. */
  readonly source?: string;
  /** True when the gate has nothing for it: shown as "to be provided". */
  readonly toBeProvided: boolean;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly ref: string;
  readonly fields: readonly Field[];
}

export interface CheckReport {
  readonly id: string;
  readonly result: string;
  readonly enforcement: string;
  readonly reason: string;
  readonly message: string;
  readonly cra: readonly string[];
  readonly evidence?: string;
}

export interface Dossier {
  readonly kind: 'cra-gate.dev/dossier';
  readonly version: 1;
  readonly generatedAt: string;
  readonly tool: string;
  readonly release: { readonly namespace: string; readonly name: string; readonly uid?: string; readonly product: string; readonly version: string };
  readonly verdict: { readonly decision: string; readonly reason: string; readonly message: string; readonly policy?: string; readonly policyGeneration?: number };
  readonly technicalDocumentation: readonly Section[];
  readonly checks: readonly CheckReport[];
  readonly declarationOfConformity: { readonly draft: true; readonly fields: readonly Field[] };
  readonly art14: readonly Art14Draft[];
  /** Count of fields still to be provided across the file. */
  readonly gaps: number;
}

const field = (label: string, ref: string, value: string | undefined, source?: string): Field =>
  value !== undefined && value.trim() !== ''
    ? { label, ref, value: value.trim(), ...(source ? { source } : {}), toBeProvided: false }
    : { label, ref, toBeProvided: true };

function info(item: InfoItem | undefined): string | undefined {
  if (!item) return undefined;
  return item.url ?? item.text;
}

function checkOf(ev: Evaluation, id: string) {
  return ev.checks.find((c) => c.id === id);
}

function verified(ev: Evaluation, id: string): string | undefined {
  const c = checkOf(ev, id);
  if (!c) return undefined;
  return `check ${id}: ${c.result}${c.evidence ? ` (${c.evidence})` : ''}`;
}

export interface DossierInput {
  readonly release: ProductRelease;
  readonly evaluation: Evaluation;
  readonly evidence: Evidence;
  readonly now: Date;
  readonly tool: string;
}

export function buildDossier(input: DossierInput): Dossier {
  const { release, evaluation: ev, evidence, now } = input;
  const spec = release.spec as ProductRelease['spec'] & { conformity?: ConformitySpec & { riskAssessment?: InfoItem }; userInformation?: UserInformationSpec; product: { category?: string } };
  const ui = spec.userInformation ?? {};
  const m = spec.product.manufacturer ?? {};
  const conformity = spec.conformity ?? {};
  const category = productCategory(spec.product.category);
  const vh = spec.vulnerabilityHandling ?? {};
  const upd = spec.updates ?? {};

  const general: Section = {
    id: 'general',
    title: 'General description of the product',
    ref: 'Annex VII(1)',
    fields: [
      field('Product', 'Annex VII(1)', `${spec.product.name} ${spec.version}`, 'spec.product.name, spec.version'),
      field('Unique identification', 'Annex II(3)', info(ui.productIdentification), 'spec.userInformation.productIdentification'),
      field('Intended purpose', 'Annex VII(1)(a)', info(ui.intendedPurpose), 'spec.userInformation.intendedPurpose'),
      field('Versions of software affecting compliance', 'Annex VII(1)(b)', spec.version, 'spec.version'),
      field('Category', 'Art. 7(1), 8(1)', category ? `${category.ref}: ${category.title} — ${CLASS_LABEL[category.cls]}` : undefined, 'spec.product.category'),
      field('Photographs or illustrations (hardware)', 'Annex VII(1)(c)', undefined),
      field('User information and instructions', 'Annex VII(1)(d), Annex II', ANNEX_II_ITEMS.filter((i) => info(ui[i.key])).map((i) => `${i.ref}: ${info(ui[i.key])}`).join('\n') || undefined, verified(ev, 'userinfo.annex-ii')),
    ],
  };

  const sboms = (evidence.sboms ?? []).flatMap((s) =>
    s.analysis.ok ? [`${s.artifact}: ${s.analysis.format} ${s.analysis.specVersion}, ${s.analysis.model.components.length} components, ${s.analysis.digest} (${s.source})`] : [],
  );
  const sbomChecks = ev.checks.filter((c) => c.id.startsWith('sbom.'));
  const design: Section = {
    id: 'design',
    title: 'Design, development and vulnerability handling',
    ref: 'Annex VII(2)',
    fields: [
      field('Design and development information, system architecture', 'Annex VII(2)(a)', undefined),
      field('Software bill of materials', 'Annex VII(2)(b), Annex I Part II(1)', sboms.join('\n') || undefined, sbomChecks.length ? sbomChecks.map((c) => `${c.id}: ${c.result}`).join(', ') : undefined),
      field(
        'SBOM findings (BSI TR-03183-2 and the CRA text)',
        'Annex I Part II(1); BSI TR-03183-2 (guidance)',
        sbomChecks.length ? sbomChecks.map((c) => `${c.id}: ${c.result}, ${(ev.findings[c.id] ?? []).length} finding(s)${c.basis === 'Guidance' ? ' (guidance)' : ''}`).join('\n') : undefined,
        'checks sbom.*',
      ),
      field('Coordinated vulnerability disclosure policy', 'Annex VII(2)(b), Annex I Part II(5)', vh.disclosurePolicy, verified(ev, 'disclosure.cvd-policy')),
      field('Contact address for reporting vulnerabilities', 'Annex VII(2)(b), Annex I Part II(6)', vh.contact ?? m.email, verified(ev, 'disclosure.contact')),
      field('security.txt', 'RFC 9116 (guidance)', vh.securityTxt, verified(ev, 'disclosure.security-txt')),
      field('Secure distribution of updates', 'Annex VII(2)(b), Annex I Part II(7)', upd.channel ? `${upd.channel} (${upd.automatic === true ? 'automatic by default' : 'manual'})` : undefined, verified(ev, 'update.channel')),
      field('Production and monitoring processes', 'Annex VII(2)(c)', undefined),
    ],
  };

  const risk: Section = {
    id: 'risk',
    title: 'Cybersecurity risk assessment',
    ref: 'Annex VII(3), Art. 13(2)',
    fields: [field('Risk assessment (referenced document)', 'Annex VII(3)', info(conformity.riskAssessment), 'spec.conformity.riskAssessment')],
  };

  const basis = upd.expectedUsePeriod
    ? `expected use of ${upd.expectedUsePeriod.months} months: ${upd.expectedUsePeriod.rationale}`
    : upd.supportEnd
      ? 'at least five years from placing on the market (Art. 13(8) first subparagraph)'
      : undefined;
  const support: Section = {
    id: 'support',
    title: 'Support period',
    ref: 'Annex VII(4), Art. 13(8)',
    fields: [
      field('End of support', 'Art. 13(8), Annex II(7)', upd.supportEnd, verified(ev, 'update.support-period')),
      field('Placed on the market', 'Art. 13(8)', spec.placedOnMarket, 'spec.placedOnMarket'),
      field('How the support period was determined', 'Annex VII(4)', basis, 'spec.updates'),
    ],
  };

  const standards = (conformity.standards ?? []).map((s) => `${s.reference} (${s.kind}, applied ${s.application === 'Full' ? 'in full' : 'in part'}${s.assuranceLevel ? `, ${s.assuranceLevel}` : ''})`);
  const module = conformity.module;
  const route = category && module ? `${MODULE_LABEL[module] ?? module}; allowed for this category: ${allowedModules(category, conformity, new Set()).allowed.join(', ')}` : undefined;
  const standardsSection: Section = {
    id: 'standards',
    title: 'Standards, specifications and conformity assessment',
    ref: 'Annex VII(5), Art. 32',
    fields: [
      field('Harmonised standards, common specifications, certification schemes', 'Annex VII(5)', standards.join('\n') || undefined, 'spec.conformity.standards'),
      field('Conformity assessment procedure', 'Art. 32', route, verified(ev, 'conformity.route')),
      field('Notified body', 'Annex V(7)', conformity.notifiedBody?.number ? `${conformity.notifiedBody.name ?? ''} (${conformity.notifiedBody.number})`.trim() : undefined, 'spec.conformity.notifiedBody'),
    ],
  };

  const reports: Section = {
    id: 'verdict',
    title: 'Verdict of the release gate',
    ref: 'Annex VII(6)',
    fields: [
      field('Verdict', 'Annex VII(6)', `${ev.decision} (${ev.reason}): ${ev.message}`, ev.policy ? `ReleasePolicy ${ev.policy.name} generation ${ev.policy.generation ?? '?'}` : undefined),
    ],
  };

  const doc: Field[] = [
    field('Product (name, type, identification)', 'Annex V(1)', `${spec.product.name} ${spec.version}${info(ui.productIdentification) ? ` — ${info(ui.productIdentification)}` : ''}`, 'spec.product'),
    field('Manufacturer name and address', 'Annex V(2)', m.name && m.address ? `${m.name}, ${m.address}` : undefined, verified(ev, 'manufacturer.identity')),
    field('Statement', 'Annex V(3)', 'This EU declaration of conformity is issued under the sole responsibility of the manufacturer.'),
    field('Object of the declaration', 'Annex V(4)', `${spec.product.name}, version ${spec.version}${spec.artifacts?.length ? `; artifacts: ${spec.artifacts.map((a) => a.name).join(', ')}` : ''}`, 'spec.artifacts'),
    field('Conformity statement', 'Annex V(5)', 'The object of the declaration described above is in conformity with Regulation (EU) 2024/2847 and with other relevant Union harmonisation legislation: to be completed by the manufacturer.'),
    field('Standards and specifications applied', 'Annex V(6)', standards.join('\n') || undefined, 'spec.conformity.standards'),
    field(
      'Notified body, procedure and certificate',
      'Annex V(7)',
      module && module !== 'A'
        ? `${conformity.notifiedBody?.name ?? ''} ${conformity.notifiedBody?.number ? `(${conformity.notifiedBody.number})` : ''}; ${MODULE_LABEL[module] ?? module}; certificate ${conformity.certificate?.id ?? conformity.certificate?.url ?? '—'}`.trim()
        : module === 'A'
          ? 'not applicable (Module A, internal control)'
          : undefined,
      'spec.conformity',
    ),
    field('Signed for and on behalf of (place, date, name, function, signature)', 'Annex V(8)', undefined),
  ];

  const technicalDocumentation = [general, design, risk, support, standardsSection, reports];
  const art14 = buildArt14Drafts({ release, exploited: ev.exploited ?? [], evidence, now });
  const gaps = technicalDocumentation.reduce((n, s) => n + s.fields.filter((f) => f.toBeProvided).length, 0) + doc.filter((f) => f.toBeProvided).length + art14.reduce((n, d) => n + d.reports.reduce((k, r) => k + r.fields.filter((f) => f.toBeProvided).length, 0), 0);
  return {
    kind: 'cra-gate.dev/dossier',
    version: 1,
    generatedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    tool: input.tool,
    release: {
      namespace: release.metadata?.namespace ?? 'default',
      name: release.metadata?.name ?? '',
      ...(release.metadata?.uid ? { uid: release.metadata.uid } : {}),
      product: spec.product.name,
      version: spec.version,
    },
    verdict: { decision: ev.decision, reason: ev.reason, message: ev.message, ...(ev.policy ? { policy: ev.policy.name } : {}), ...(ev.policy?.generation !== undefined ? { policyGeneration: ev.policy.generation } : {}) },
    technicalDocumentation,
    checks: ev.checks.map((c) => ({ id: c.id, result: c.result, enforcement: c.enforcement, reason: c.reason, message: c.message, cra: c.cra, ...(c.evidence ? { evidence: c.evidence } : {}) })),
    declarationOfConformity: { draft: true, fields: doc },
    art14,
    gaps,
  };
}
