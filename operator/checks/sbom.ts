/**
 * The SBOM checks (BSI TR-03183-2 v2.1.0, NTIA minimum elements): pure functions over the `sboms` evidence
 * gathered by ../evidence/sbom.ts. Each SBOM is analysed once (parse + schema + model, in a worker for large
 * documents); the checks here only run the rules of ../sbom/rules.ts on the model, or read their findings precomputed
 * on the full model when the analysis kept only its compact form (../sbom/compact.ts, issue 16).
 */
import type { Reason } from '../errors.ts';
import { localiseFinding } from '../sbom/analyze.ts';
import { ruleFindings } from '../sbom/compact.ts';
import type { SbomAnalysisOk } from '../sbom/analyze.ts';
import { notAssessed, type SbomEvidence } from '../sbom/evidence.ts';
import type { SbomComponent } from '../sbom/model.ts';
import {
  isProfile,
  normaliseVersion,
  ruleBsiFields,
  ruleComplete,
  ruleFormatVersion,
  ruleLicenceIds,
  ruleNoVulnData,
  ruleNtia,
  rulePerVersion,
  ruleSchemaValid,
  ruleTopLevelDeps,
} from '../sbom/rules.ts';
import type { RuleFinding, SbomProfile } from '../sbom/rules.ts';
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import type { ProductRelease } from './api.ts';


const IN_FORCE = '2027-12-11';
/**
 * What the CRA text itself says about the SBOM. Annex I Part II(1): manufacturers shall "identify and document
 * vulnerabilities and components contained in products with digital elements, including by drawing up a software
 * bill of materials in a commonly used and machine-readable format covering at the very least the top-level
 * dependencies of the products"; Annex VII(2)(b): the technical documentation includes the SBOM. Everything
 * beyond that (format versions, per-component fields, licence ids, the whole graph, no vulnerability data) is
 * BSI TR-03183-2 or NTIA guidance: those checks list no `cra` and name the provision they make concrete.
 */
const SBOM_CRA = ['Annex I Part II(1)', 'Annex VII(2)(b)'];
const CONCRETISES = ['Annex I Part II(1)'];
const MAX_STATUS_MESSAGE = 300;

export function profileParam(params: Readonly<Record<string, unknown>>): SbomProfile | CheckOutcome {
  const p = params.profile ?? 'bsi-2.1';
  if (!isProfile(p)) return errorOutcome('InvalidCheckParams', `params.profile must be one of bsi-2.1, bsi-2.0, ntia (got ${JSON.stringify(p).slice(0, 40)})`);
  return p;
}

interface Usable {
  readonly ev: SbomEvidence;
  readonly a: SbomAnalysisOk;
}

/**
 * Why the registry SBOMs (attestations, attached SBOMs) of an image artifact without any SBOM are unknown rather
 * than missing: its registry could not be read, or the policy's signing configuration (needed to verify them)
 * could not be loaded. Undefined when the registry was read and verified: then "no SBOM" is a finding.
 */
export function registrySbomsUnknown(ctx: CheckContext, artifact: string): string | undefined {
  const a = (ctx.release.spec.artifacts ?? []).find((x) => x.name === artifact);
  if (!a?.image) return undefined;
  const sig = ctx.evidence.signatures?.find((x) => x.artifact === artifact);
  if (sig?.error) return `artifact ${artifact}: its registry could not be read (${sig.error.reason}: ${sig.error.message}), so its attested SBOMs are unknown`;
  const cfg = ctx.evidence.signingConfigError;
  if (cfg) return `artifact ${artifact}: the signing configuration could not be loaded (${cfg.reason}: ${cfg.message}), so its SBOM attestations could not be verified`;
  return undefined;
}

/** The SBOMs a check can read, or the outcome when there are none usable (fail closed). */
export function usableSboms(ctx: CheckContext): Usable[] | CheckOutcome {
  const spec = ctx.release.spec;
  const declared = spec.sboms ?? [];
  const list = ctx.evidence.sboms;
  if (list === undefined) {
    if (declared.length > 0) return errorOutcome('EvidenceUnavailable', 'SBOM evidence was not collected');
    return fail('SbomMissing', 'the release declares no SBOM (spec.sboms) and none was found for its artifacts', {
      findings: [{ pointer: '/spec/sboms', message: 'no SBOM' }],
    });
  }
  if (list.length === 0) {
    const unknown = (spec.artifacts ?? []).map((a) => registrySbomsUnknown(ctx, a.name)).find((m) => m !== undefined);
    if (unknown) return errorOutcome('EvidenceUnavailable', clip(unknown));
    return fail('SbomMissing', 'no SBOM was found for the release (spec.sboms, registry)', { findings: [{ pointer: '/spec/sboms', message: 'no SBOM' }] });
  }
  for (const ev of list) {
    const a = ev.analysis;
    if (notAssessed(a)) {
      return { result: 'Error', reason: a.reason, message: clip(`SBOM of ${ev.artifact} (${ev.source}) could not be ${'unavailable' in a ? 'read' : 'assessed'}: ${a.message}`) };
    }
  }
  const bad = list.filter((ev) => !ev.analysis.ok);
  if (bad.length > 0) {
    const first = bad[0]!;
    const a = first.analysis as { reason: Reason; message: string };
    return fail(a.reason, clip(`SBOM of ${first.artifact} (${first.source}) is unusable: ${a.message}${bad.length > 1 ? ` (+${bad.length - 1} more)` : ''}`), {
      findings: bad.map((ev) => ({ pointer: ev.specPointer ?? '', message: `${ev.source}: ${(ev.analysis as { message: string }).message}` })),
      evidence: digests(list),
    });
  }
  return list.map((ev) => ({ ev, a: ev.analysis as SbomAnalysisOk }));
}

export function digests(list: readonly SbomEvidence[]): string {
  const d = [...new Set(list.map((e) => ('digest' in e.analysis ? e.analysis.digest : '')).filter(Boolean))];
  return d.slice(0, 3).join(',') + (d.length > 3 ? `,+${d.length - 3}` : '');
}

function clip(s: string): string {
  return s.length > MAX_STATUS_MESSAGE ? `${s.slice(0, MAX_STATUS_MESSAGE - 1)}…` : s;
}

/** Run a rule on every usable SBOM and turn its grouped findings into an outcome. */
export function runRule(ctx: CheckContext, rule: (u: Usable) => RuleFinding[], passMessage: (u: Usable[]) => string): CheckOutcome {
  const usable = usableSboms(ctx);
  if (!Array.isArray(usable)) return usable;
  const all: { ev: SbomEvidence; f: RuleFinding }[] = [];
  // XML SBOMs: pointers become XPath into the document.
  for (const u of usable) for (const f of rule(u)) all.push({ ev: u.ev, f: localiseFinding(u.a, f) });
  const evidence = digests(usable.map((u) => u.ev));
  if (all.length === 0) return pass(passMessage(usable), { evidence });
  const multi = usable.length > 1;
  const prefix = (ev: SbomEvidence) => (multi ? `[${ev.artifact}] ` : '');
  const findings: Finding[] = all.map(({ ev, f }) => ({ pointer: f.pointer, message: `${prefix(ev)}${f.message}`, count: f.count, pointers: f.pointers, basis: f.basis }));
  const head = all[0]!;
  const others = all.slice(1, 3).map(({ ev, f }) => `${prefix(ev)}${f.message}`);
  const more = all.length > 3 ? `; +${all.length - 3} more` : '';
  const message = clip([`${prefix(head.ev)}${head.f.message}`, ...others].join('; ') + more);
  return fail(head.f.reason, message, { findings, evidence });
}

function describe(usable: Usable[]): string {
  return usable.map((u) => `${u.a.format} ${u.a.specVersion} (${u.a.model.components.length} components)`).join(', ');
}

// ---- check definitions ----------------------------------------------------------------------------------

export const sbomFormatValid: CheckDefinition = {
  id: 'sbom.format-valid',
  title: 'SBOM is in a commonly used, machine-readable format (valid CycloneDX or SPDX)',
  cra: ['Annex I Part II(1)'],
  standards: ['CycloneDX specification (ECMA-424)', 'SPDX specification (ISO/IEC 5962)'],
  reads: 'the SBOM documents (spec.sboms, registry)',
  passRule:
    'every SBOM is CycloneDX (1.2–1.6) or SPDX (2.2–3.0.1) and valid against that version\'s official schema; the format version a guideline asks for is sbom.format-version',
  fix: 'Generate the SBOM with a CycloneDX or SPDX tool and validate it against the official schema (see each finding\'s pointer).',
  inForceFrom: IN_FORCE,
  run(ctx) {
    return runRule(
      ctx,
      (u) => ruleSchemaValid(u.a),
      (usable) => {
        const structural = usable.filter((u) => u.a.schema.schema === 'structural');
        const note = structural.length > 0 ? `; ${structural.map((u) => u.a.schema.schemaName).join(', ')}` : '';
        return `valid ${describe(usable)}${note}`;
      },
    );
  },
};

export const sbomFormatVersion: CheckDefinition = {
  id: 'sbom.format-version',
  title: 'SBOM format version is one the guideline accepts (BSI TR-03183-2 §4)',
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §4', 'BSI TR-03183-2 v2.1.0 §7', 'NTIA SBOM minimum elements (2021)'],
  concretises: CONCRETISES,
  reads: 'the SBOM documents (spec.sboms, registry)',
  passRule:
    'CycloneDX ≥ 1.6 or SPDX ≥ 3.0.1 (profile bsi-2.1, default), CycloneDX ≥ 1.5 or SPDX ≥ 2.2.1 (bsi-2.0), CycloneDX ≥ 1.4 or SPDX ≥ 2.2 (ntia)',
  fix: 'Generate the SBOM as CycloneDX 1.6 (e.g. cyclonedx-npm --spec-version 1.6) or SPDX 3.0.1 JSON-LD.',
  inForceFrom: IN_FORCE,
  params: ['profile'],
  run(ctx) {
    const profile = profileParam(ctx.params);
    if (typeof profile !== 'string') return profile;
    return runRule(ctx, (u) => ruleFormatVersion(u.a, profile), (usable) => `format version accepted by profile ${profile}: ${describe(usable)}`);
  },
};

export const sbomBsiFields: CheckDefinition = {
  id: 'sbom.bsi-tr-03183-fields',
  title: 'SBOM has every field BSI TR-03183-2 requires (or the NTIA minimum elements)',
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §3.2', 'BSI TR-03183-2 v2.1.0 §5.2.1', 'BSI TR-03183-2 v2.1.0 §5.2.2', 'BSI TR-03183-2 v2.1.0 §5.2.4', 'NTIA SBOM minimum elements (2021)'],
  concretises: CONCRETISES,
  reads: 'the SBOM documents (spec.sboms, registry)',
  passRule:
    'SBOM creator (email or URL) and timestamp; per component: creator, name, version, filename, dependencies with stated completeness, distribution licence, SHA-512 deployable hash, bsi:component:executable/archive/structured with allowed values (reduced sets for logical, identified and referenced components); profile ntia: supplier, name, version, unique identifier, dependency relationship, author, timestamp',
  fix: 'Add the missing fields (see each finding\'s pointer); CycloneDX: the bsi:component:* properties of the BSI property taxonomy, metadata.manufacturer, compositions.',
  inForceFrom: IN_FORCE,
  params: ['profile'],
  run(ctx) {
    const profile = profileParam(ctx.params);
    if (typeof profile !== 'string') return profile;
    return runRule(
      ctx,
      (u) => [...ruleFindings(u.a, profile, (m) => (profile === 'ntia' ? ruleNtia(m) : ruleBsiFields(m, profile)))],
      (usable) => `${profile === 'ntia' ? 'NTIA minimum elements' : `BSI TR-03183-2 ${profile === 'bsi-2.1' ? 'v2.1.0' : 'v2.0.0'} fields`} present in ${describe(usable)}`,
    );
  },
};

export const sbomTopLevelDeps: CheckDefinition = {
  id: 'sbom.top-level-deps',
  title: 'The primary component declares its direct dependencies',
  cra: ['Annex I Part II(1)'],
  standards: [],
  reads: 'the SBOM documents',
  passRule: 'the primary component has a dependencies entry listing its direct dependencies (or an empty one stated complete)',
  fix: 'Declare metadata.component with a bom-ref and a dependencies[] entry for it listing its direct dependencies.',
  inForceFrom: IN_FORCE,
  run(ctx) {
    return runRule(ctx, (u) => [...ruleFindings(u.a, 'topLevelDeps', ruleTopLevelDeps)], () => 'the primary component declares its direct dependencies');
  },
};

export const sbomComplete: CheckDefinition = {
  id: 'sbom.complete',
  title: 'The dependency graph is complete and consistent',
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §5.1', 'BSI TR-03183-2 v2.1.0 §5.2.2'],
  concretises: CONCRETISES,
  reads: 'the SBOM documents',
  passRule: 'every component reachable from the primary component, no dangling or duplicate references, completeness of the primary\'s dependencies stated',
  fix: 'Declare a dependencies[] entry for every component, remove duplicate bom-refs, and add compositions stating the completeness.',
  inForceFrom: IN_FORCE,
  run(ctx) {
    return runRule(ctx, (u) => [...ruleFindings(u.a, 'complete', (m) => ruleComplete(m))], (usable) => `dependency graph complete (${describe(usable)})`);
  },
};

export const sbomLicenceIds: CheckDefinition = {
  id: 'sbom.licence-ids',
  title: 'Licences are SPDX identifiers or expressions',
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §6.1'],
  concretises: CONCRETISES,
  reads: 'the SBOM documents',
  passRule: 'every licence is an SPDX licence identifier or expression (LicenseRef- allowed); no free-text names or licence text only',
  fix: 'Replace free-text licence names with SPDX identifiers (https://spdx.org/licenses/) or LicenseRef-<entity>-<name>.',
  inForceFrom: IN_FORCE,
  run(ctx) {
    return runRule(ctx, (u) => [...ruleFindings(u.a, 'licenceIds', (m) => ruleLicenceIds(m))], () => 'every licence is an SPDX identifier or expression');
  },
};

export const sbomNoVulnData: CheckDefinition = {
  id: 'sbom.no-vuln-data',
  title: 'No vulnerability data inside the SBOM',
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §8.1.14'],
  concretises: CONCRETISES,
  reads: 'the SBOM documents',
  passRule: 'the SBOM has no vulnerabilities (CycloneDX) or security_* vulnerability/VEX elements (SPDX 3)',
  fix: 'Remove the vulnerabilities from the SBOM; publish them as CSAF or VEX (spec.vulnerabilityHandling.vex).',
  inForceFrom: IN_FORCE,
  run(ctx) {
    return runRule(ctx, (u) => [...ruleFindings(u.a, 'noVulnData', ruleNoVulnData)], () => 'no vulnerability data in the SBOM');
  },
};

export const sbomPerVersion: CheckDefinition = {
  id: 'sbom.per-version',
  title: 'The SBOM describes this release\'s version',
  cra: ['Annex I Part II(1)', 'Annex VII(2)(b)'],
  standards: [],
  reads: 'the SBOM documents, spec.version',
  passRule: 'the primary component\'s version equals spec.version (a leading "v" is ignored)',
  fix: 'Regenerate the SBOM for this release so that its primary component carries spec.version.',
  inForceFrom: IN_FORCE,
  run(ctx) {
    const v = ctx.release.spec.version;
    return runRule(ctx, (u) => rulePerVersion(u.a.model, v), () => `the SBOM describes version ${v}`);
  },
};

// ---- sbom.present -------------------------------------------------------------------------------------------

type Artifact = NonNullable<ProductRelease['spec']['artifacts']>[number];

/** Names an artifact is known by: its name, the image repository's last segment, the URL's file name. */
export function artifactNames(a: Artifact): string[] {
  const names = [a.name];
  if (a.image) {
    const noDigest = a.image.split('@')[0]!;
    const lastSlash = noDigest.lastIndexOf('/');
    const repo = noDigest.slice(lastSlash + 1).split(':')[0]!;
    if (repo) names.push(repo);
  }
  if (a.url) {
    try {
      const file = new URL(a.url).pathname.split('/').pop();
      if (file) names.push(decodeURIComponent(file));
    } catch {
      /* ignore: CRD validates URLs */
    }
  }
  return names.map((n) => n.toLowerCase());
}

/** `{alg, hex}` of an artifact's digest (digest field, else the image's @sha256:). */
export function artifactDigest(a: Artifact): { alg: string; hex: string } | undefined {
  const raw = a.digest ?? (a.image?.includes('@') ? a.image.slice(a.image.lastIndexOf('@') + 1) : undefined);
  const m = raw ? /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(raw) : null;
  return m ? { alg: m[1]!, hex: m[2]!.toLowerCase() } : undefined;
}

/** Hashes the SBOM's primary component declares for the artifact: hashes, plus an OCI digest in purl/version. */
export function primaryHashes(c: SbomComponent): { alg: string; hex: string; pointer: string }[] {
  const out = c.hashes.map((h) => ({ alg: h.alg, hex: h.content, pointer: h.pointer }));
  const fromText = (text: string | undefined, pointer: string) => {
    const m = text ? /(sha256|sha384|sha512)(?::|%3A)([0-9a-f]{64,128})/i.exec(text) : null;
    if (m) out.push({ alg: m[1]!.toLowerCase(), hex: m[2]!.toLowerCase(), pointer });
  };
  fromText(c.purl, `${c.pointer}/purl`);
  fromText(c.version, `${c.pointer}/version`);
  return out;
}

function primaryMatches(c: SbomComponent, a: Artifact): boolean {
  const names = artifactNames(a);
  const cand = [c.name, ...c.filename].filter((x): x is string => !!x).map((x) => x.toLowerCase());
  if (c.purl) {
    const m = /^pkg:[^/]+\/(?:.*\/)?([^@?#/]+)/.exec(c.purl);
    if (m) cand.push(decodeURIComponent(m[1]!).toLowerCase());
  }
  if (cand.some((x) => names.includes(x))) return true;
  const d = artifactDigest(a);
  return d !== undefined && primaryHashes(c).some((h) => h.alg === d.alg && h.hex === d.hex);
}

export const sbomPresent: CheckDefinition = {
  id: 'sbom.present',
  title: 'Every artifact has an SBOM describing it',
  cra: SBOM_CRA,
  standards: [],
  reads: 'spec.artifacts, the SBOM documents (spec.sboms, registry)',
  passRule: 'every artifact has a usable SBOM whose primary component matches it (name, purl, file name or hash)',
  fix: 'Add spec.sboms[] entries (ConfigMap or https URL) for each artifact, generated for that artifact.',
  inForceFrom: IN_FORCE,
  run(ctx) {
    const artifacts = ctx.release.spec.artifacts ?? [];
    const list = ctx.evidence.sboms;
    if (artifacts.length === 0) {
      return fail('SbomMissing', 'the release declares no artifacts (spec.artifacts), so no SBOM can describe them', {
        findings: [{ pointer: '/spec/artifacts', message: 'no artifacts' }],
      });
    }
    if (list === undefined) {
      if ((ctx.release.spec.sboms ?? []).length > 0) return errorOutcome('EvidenceUnavailable', 'SBOM evidence was not collected');
    }
    const findings: (Finding & { reason: Reason })[] = [];
    const unknown: string[] = [];
    artifacts.forEach((a, i) => {
      const mine = (list ?? []).filter((e) => e.artifact === a.name);
      const pointer = `/spec/artifacts/${i}`;
      const notRead = mine.length === 0 ? registrySbomsUnknown(ctx, a.name) : undefined;
      if (notRead) {
        unknown.push(notRead);
        return;
      }
      if (mine.length === 0) {
        // Say why an SBOM the registry holds did not count (e.g. attested with a key the policy does not trust).
        const rejected = ctx.evidence.signatures?.find((x) => x.artifact === a.name)?.rejectedAttestations ?? [];
        const why = rejected.length > 0 ? ` (${rejected.length} SBOM attestation(s) rejected: ${rejected[0]!.reason}, ${rejected[0]!.message})` : '';
        findings.push({ reason: 'SbomMissing', pointer, message: `artifact ${a.name} has no SBOM${why}` });
        return;
      }
      const usable = mine.filter((e) => e.analysis.ok) as (SbomEvidence & { analysis: SbomAnalysisOk })[];
      if (usable.length === 0) {
        const first = mine[0]!.analysis as { reason: Reason; message: string };
        findings.push({ reason: first.reason, pointer, message: `artifact ${a.name}: SBOM unusable: ${first.message}` });
        return;
      }
      const match = usable.some((e) => {
        const p = e.analysis.model.components.find((c) => c.primary);
        return p !== undefined && primaryMatches(p, a);
      });
      if (!match) {
        const p = usable[0]!.analysis.model.components.find((c) => c.primary);
        findings.push({
          reason: 'SbomComponentMismatch',
          pointer,
          message: p
            ? `artifact ${a.name}: the SBOM's primary component ${JSON.stringify(p.name ?? '')} matches neither its name, file name nor digest`
            : `artifact ${a.name}: the SBOM declares no primary component`,
        });
      }
    });
    const evidence = list ? digests(list) : undefined;
    // Not assessed is not missing: an image whose registry SBOMs could not be read makes the check Error, unless
    // another artifact fails outright.
    if (findings.length === 0 && unknown.length > 0) return errorOutcome('EvidenceUnavailable', clip(unknown.join('; ')));
    if (findings.length === 0) return pass(`all ${artifacts.length} artifact(s) have an SBOM describing them`, evidence ? { evidence } : {});
    // Transient read failures make the whole check Error (fail closed, retried).
    const unavailable = (list ?? []).find((e) => notAssessed(e.analysis));
    if (unavailable && findings.some((f) => f.message.includes(unavailable.artifact))) {
      const u = unavailable.analysis as { reason: Reason; message: string };
      const how = 'unavailable' in unavailable.analysis ? 'read' : 'assessed';
      return { result: 'Error', reason: u.reason, message: clip(`SBOM of ${unavailable.artifact} (${unavailable.source}) could not be ${how}: ${u.message}`) };
    }
    const head = findings[0]!;
    return fail(head.reason, clip(findings.slice(0, 3).map((f) => f.message).join('; ') + (findings.length > 3 ? `; +${findings.length - 3} more` : '')), {
      findings: findings.map(({ pointer, message }) => ({ pointer, message, count: 1 })),
      ...(evidence ? { evidence } : {}),
    });
  },
};

export const sbomChecks: readonly CheckDefinition[] = [
  sbomPresent,
  sbomFormatValid,
  sbomFormatVersion,
  sbomBsiFields,
  sbomTopLevelDeps,
  sbomComplete,
  sbomLicenceIds,
  sbomNoVulnData,
  sbomPerVersion,
];

export { normaliseVersion };
