/**
 * The SBOM rules, pure functions of the model (and the profile). Each rule returns grouped findings: one per
 * kind of problem, with a count, the pointer of the first instance and the first few instance pointers, so a
 * 50k-component SBOM yields a handful of findings, not 50k.
 */
import parseSpdx from 'spdx-expression-parse';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { Reason } from '../errors.ts';
import { craBasis, guidanceBasis } from '../checks/types.ts';
import type { Basis } from '../checks/types.ts';
import type { SbomAnalysisOk } from './analyze.ts';
import type { SbomComponent, SbomModel } from './model.ts';
import { compareVersions } from './parse.ts';

import type { SbomProfile } from './profile.ts';

export { PROFILES, isProfile } from './profile.ts';
export type { SbomProfile } from './profile.ts';

export interface RuleFinding {
  readonly reason: Reason;
  /** RFC 6901 pointer into the SBOM: the first instance. */
  readonly pointer: string;
  /** How many instances. */
  readonly count: number;
  /** First instances' pointers (at most `maxPointers`). */
  readonly pointers: readonly string[];
  readonly message: string;
  /** What the finding rests on: the CRA text, or the guideline section (issue #13 item 14). */
  readonly basis: Basis;
}

/** The CRA text an SBOM finding can rest on (Annex I Part II(1): "… a software bill of materials in a commonly
 * used and machine-readable format covering at the very least the top-level dependencies of the products"). */
export const CRA_SBOM = craBasis('Annex I Part II(1)');

/** The BSI TR-03183-2 section a finding rests on, in the version the profile applies. */
export function tr(section: string, profile: SbomProfile = 'bsi-2.1'): Basis {
  return guidanceBasis(`BSI TR-03183-2 ${profile === 'bsi-2.0' ? 'v2.0.0' : 'v2.1.0'} ${section}`);
}

export const NTIA_BASIS = guidanceBasis('NTIA SBOM minimum elements (2021)');

/** Collects instances per reason+what and groups them. */
export class FindingCollector {
  readonly #groups = new Map<string, { reason: Reason; what: string; count: number; pointers: string[]; basis: Basis }>();
  readonly #maxPointers: number;
  readonly #basis: Basis;
  /** `basis`: what the findings rest on unless `add` names another. */
  constructor(maxPointers = 5, basis: Basis = CRA_SBOM) {
    this.#maxPointers = maxPointers;
    this.#basis = basis;
  }
  add(reason: Reason, what: string, pointer: string, basis: Basis = this.#basis): void {
    if (what.startsWith('the primary component ')) what = what.replace(/^the primary component (lack|have) /, (_m, v: string) => `the primary component ${v === 'lack' ? 'lacks' : 'has'} `);
    const key = `${reason}\u0000${what}`;
    let g = this.#groups.get(key);
    if (!g) this.#groups.set(key, (g = { reason, what, count: 0, pointers: [], basis }));
    g.count++;
    if (g.pointers.length < this.#maxPointers) g.pointers.push(pointer);
  }
  /** `total` (e.g. the number of components) turns messages into "n of total …". */
  findings(total?: Readonly<Record<string, number>>): RuleFinding[] {
    return [...this.#groups.values()].map((g) => {
      const of = total?.[g.what] !== undefined && g.count > 1 ? ` of ${total[g.what]}` : '';
      const examples = g.pointers.slice(0, 3).join(', ') + (g.count > 3 ? ', …' : '');
      const message = g.count === 1 ? `${g.what} (${g.pointers[0]})` : `${g.count}${of} ${g.what} (first: ${examples})`;
      return { reason: g.reason, pointer: g.pointers[0] ?? '', count: g.count, pointers: g.pointers, message, basis: g.basis };
    });
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function hasContact(c: SbomComponent['creator']): boolean {
  return c.emails.length > 0 || c.urls.length > 0;
}

// ---- sbom.format-valid --------------------------------------------------------------------------------

const MINIMUMS: Record<SbomProfile, { cdx: string; spdx: string; label: string }> = {
  'bsi-2.1': { cdx: '1.6', spdx: '3.0.1', label: 'BSI TR-03183-2 v2.1.0 (§4)' },
  'bsi-2.0': { cdx: '1.5', spdx: '2.2.1', label: 'BSI TR-03183-2 v2.0.0' },
  ntia: { cdx: '1.4', spdx: '2.2', label: 'the NTIA minimum elements profile' },
};

/**
 * The format version the profile's guideline asks for (BSI TR-03183-2 v2.1.0 §4: CycloneDX ≥ 1.6, SPDX ≥ 3.0.1).
 * Guidance only: the CRA text asks for "a commonly used and machine-readable format", no version.
 */
export function ruleFormatVersion(a: Pick<SbomAnalysisOk, 'format' | 'specVersion'>, profile: SbomProfile): RuleFinding[] {
  const min = MINIMUMS[profile];
  const need = a.format === 'CycloneDX' ? min.cdx : min.spdx;
  if (compareVersions(a.specVersion, need) >= 0) return [];
  const ptr = a.format === 'CycloneDX' ? '/specVersion' : a.specVersion.startsWith('2.') ? '/spdxVersion' : '/@context';
  return [
    {
      reason: 'SbomFormatTooOld',
      pointer: ptr,
      count: 1,
      pointers: [ptr],
      message: `${a.format} ${a.specVersion} is older than ${a.format} ${need}, the minimum of ${min.label}`,
      basis: profile === 'ntia' ? NTIA_BASIS : tr('§4', profile),
    },
  ];
}

/**
 * The document is valid CycloneDX/SPDX against the official schema: it is in "a commonly used and
 * machine-readable format" (CRA Annex I Part II(1)) only when it really is in the format it declares.
 */
export function ruleSchemaValid(a: Pick<SbomAnalysisOk, 'schema'>): RuleFinding[] {
  if (a.schema.valid) return [];
  const first = a.schema.problems.slice(0, 3).map((p) => `${p.pointer || '/'}: ${p.message}`).join('; ');
  return [
    {
      reason: 'SbomSchemaInvalid',
      pointer: a.schema.problems[0]?.pointer ?? '',
      count: a.schema.errorCount,
      pointers: a.schema.problems.map((p) => p.pointer),
      message: `invalid against ${a.schema.schemaName}: ${a.schema.errorCount} problem(s) (first: ${first})`,
      basis: CRA_SBOM,
    },
  ];
}

/** Both: format version per profile (guidance) and schema validity (CRA text); `cra-gate sbom check` uses it. */
export function ruleFormatValid(a: SbomAnalysisOk, profile: SbomProfile): RuleFinding[] {
  return [...ruleFormatVersion(a, profile), ...ruleSchemaValid(a)];
}

// ---- component classification (TR §3.2) -----------------------------------------------------------------

export type ComponentKind = 'full' | 'logical' | 'identified' | 'referenced';

/**
 * Component types that STATE a logical component (TR §3.2.2: "an abstraction level that combines multiple
 * components"; §8.1.3: "an operating system, application, framework, container, etc., when it is required to
 * address a component on an abstract level, e.g. a dependency on an installed operation system (logical
 * component) in contrast to its installable image (archive file)"). Neither the TR nor the BSI CycloneDX
 * property taxonomy v0.1.2 defines a flag for it, so only a type whose own definition excludes being a single
 * file counts: CycloneDX `operating-system` ("without regard to deployment model"), `platform` ("a runtime
 * environment"), `device` (hardware); SPDX 2.3 primaryPackagePurpose OPERATING-SYSTEM / DEVICE; SPDX 3
 * software_primaryPurpose operatingSystem / platform / device. `application`, `framework`, `library` and
 * `container` may each be one file or archive, so they are never taken as logical, and neither is a component
 * merely because it nests others or lacks file-level fields (issue #13 item 7: never guess).
 */
export const LOGICAL_TYPES: ReadonlySet<string> = new Set(['operating-system', 'operatingsystem', 'platform', 'device']);

export function componentKind(c: SbomComponent): ComponentKind {
  // §3.2.5: the SBOM states a reference to another BOM.
  if (c.referencesBom) return 'referenced';
  // §3.2.4: stated outside the delivery (CycloneDX scope "excluded").
  if (c.scope === 'excluded') return 'identified';
  if (c.type !== undefined && LOGICAL_TYPES.has(c.type.toLowerCase())) return 'logical';
  return 'full';
}

/** RFC 3986 URI (ajv-formats' `uri` format; an IRI is not a URI: TR §8.1.10 asks for Punycode / percent-encoding). */
const uriFormat = fullFormats.uri as (v: string) => boolean;
export function isValidUri(v: string): boolean {
  return v.length <= 8192 && uriFormat(v);
}

type DepIndex = ReadonlyMap<string, { readonly dependsOn: readonly string[]; readonly pointer: string }>;
/** Indexes of a model, built once per model (several rules read them; the model is never mutated). */
const depIndexes = new WeakMap<SbomModel, DepIndex>();
const completenessIndexes = new WeakMap<SbomModel, ReadonlySet<string>>();

const refIndexes = new WeakMap<SbomModel, ReadonlyMap<string, number | readonly number[]>>();

/** Components by ref: an index, or the indexes when a ref is (wrongly) used more than once. */
function refIndex(m: SbomModel): ReadonlyMap<string, number | readonly number[]> {
  const known = refIndexes.get(m);
  if (known) return known;
  const map = new Map<string, number | number[]>();
  for (let i = 0; i < m.components.length; i++) {
    const r = m.components[i]!.ref;
    if (r === undefined) continue;
    const l = map.get(r);
    if (l === undefined) map.set(r, i);
    else if (typeof l === 'number') map.set(r, [l, i]);
    else l.push(i);
  }
  refIndexes.set(m, map);
  return map;
}

function depIndex(m: SbomModel): DepIndex {
  const known = depIndexes.get(m);
  if (known) return known;
  const map = new Map<string, { dependsOn: readonly string[]; pointer: string }>();
  for (const d of m.dependencies) {
    const prev = map.get(d.ref);
    map.set(d.ref, prev ? { dependsOn: [...prev.dependsOn, ...d.dependsOn], pointer: prev.pointer } : d);
  }
  depIndexes.set(m, map);
  return map;
}

/**
 * Aggregates that state nothing about completeness: none given, CycloneDX `not_specified` / `unknown`, SPDX 3.0.1
 * `noAssertion` ("No assertion can be made about the completeness of the relationship") — each is a finding.
 */
const UNKNOWN_COMPLETENESS = new Set(['', 'not_specified', 'unknown', 'noAssertion']);

function completenessIndex(m: SbomModel): ReadonlySet<string> {
  const known = completenessIndexes.get(m);
  if (known) return known;
  const s = new Set<string>();
  for (const c of m.compositions) if (!UNKNOWN_COMPLETENESS.has(c.aggregate)) for (const r of c.refs) s.add(r);
  completenessIndexes.set(m, s);
  return s;
}

/** Refs whose completeness is stated as unknown (and nowhere as known). */
function unknownCompleteness(m: SbomModel, known: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of m.compositions) if (c.aggregate !== '' && UNKNOWN_COMPLETENESS.has(c.aggregate)) for (const r of c.refs) if (!known.has(r)) out.set(r, c.aggregate);
  return out;
}

function label(c: SbomComponent): string {
  return c.primary ? 'the primary component' : 'components';
}

// ---- sbom.bsi-tr-03183-fields ------------------------------------------------------------------------------

const ALLOWED = {
  executable: ['executable', 'non-executable'],
  archive: ['archive', 'no archive'],
  structured: ['structured', 'unstructured'],
} as const;

export function ruleBsiFields(m: SbomModel, profile: 'bsi-2.1' | 'bsi-2.0', maxPointers = 5): RuleFinding[] {
  // Every finding here rests on the TR (guidance): §5.2.2 (fields per component) unless noted.
  const f = new FindingCollector(maxPointers, tr('§5.2.2', profile));
  const s521 = tr('§5.2.1', profile);
  if (!hasContact(m.creator)) f.add('MissingSbomCreator', 'SBOM creator has neither an email address nor a URL', m.creatorPointer, s521);
  if (!m.timestamp) f.add('MissingSbomTimestamp', 'SBOM timestamp is missing', m.timestampPointer, s521);
  else if (!RFC3339.test(m.timestamp)) f.add('MissingSbomTimestamp', `SBOM timestamp is not an RFC 3339 date-time`, m.timestampPointer, s521);

  const deps = depIndex(m);
  const complete = completenessIndex(m);
  const unknown = unknownCompleteness(m, complete);
  const strictLicence = profile === 'bsi-2.1' && !(m.format === 'CycloneDX' && compareVersions(m.specVersion, '1.6') < 0);
  for (const c of m.components) {
    const d = c.ref !== undefined ? deps.get(c.ref) : undefined;
    const L = label(c);
    const kind = componentKind(c);
    // §5.2.4: a source code URI / URI of the deployable form, when present, must be a URI.
    for (const u of c.uris) {
      if (!isValidUri(u.value)) {
        f.add('InvalidComponentUri', `${L} have a ${u.kind === 'source' ? 'source code URI' : 'deployable-form URI'} that is not a valid URI (RFC 3986)`, u.pointer, tr('§5.2.4', profile));
      }
    }
    if (!hasContact(c.creator)) f.add('MissingComponentCreator', `${L} lack a creator email or URL`, c.pointer);
    if (!c.name) f.add('MissingComponentName', `${L} lack a name`, c.pointer);
    if (!c.version) f.add('MissingComponentVersion', `${L} lack a version`, c.pointer);
    if (kind === 'referenced' || kind === 'identified') continue;
    // Logical and full components: dependencies (with completeness) and distribution licences.
    if (c.ref === undefined) f.add('MissingComponentDependencies', `${L} have no identifier (bom-ref/SPDXID), so no dependencies can be stated`, c.pointer);
    else if (!d && c.nested === 0) f.add('MissingComponentDependencies', `${L} have no dependencies entry (declare an empty one when there are none)`, c.pointer);
    else if (m.completenessExpressible && !complete.has(c.ref)) {
      if (unknown.has(c.ref)) f.add('DependencyCompletenessUnstated', `${L} state the completeness of their dependencies as unknown (${unknown.get(c.ref)})`, c.pointer);
      else f.add('DependencyCompletenessUnstated', `${L} have no stated completeness of their dependencies (compositions)`, c.pointer);
    } else if (!m.completenessExpressible) {
      f.add('DependencyCompletenessUnstated', `${L}: SPDX ${m.specVersion} cannot state dependency completeness`, c.pointer);
    }
    if (strictLicence ? !c.licences.some((l) => l.acknowledgement === 'concluded') : c.licences.length === 0) {
      f.add(
        'MissingDistributionLicence',
        strictLicence ? `${L} lack a distribution licence (a licence with acknowledgement "concluded")` : `${L} lack a distribution licence`,
        c.pointer,
      );
    }
    if (kind === 'logical') continue;
    if (c.filename.length === 0) f.add('MissingComponentFilename', `${L} lack a filename (bsi:component:filename)`, c.pointer);
    else if (c.filename.length > 1) f.add('InvalidBsiProperty', `${L} have bsi:component:filename more than once`, c.pointer);
    if (!c.hashes.some((h) => h.alg === 'sha512' && /^[0-9a-f]{128}$/.test(h.content))) {
      f.add('MissingDeployableHash', `${L} lack a SHA-512 deployable hash`, c.pointer);
    }
    for (const key of ['executable', 'archive', 'structured'] as const) {
      const values = c[key];
      const reason: Reason = key === 'executable' ? 'MissingExecutableProperty' : key === 'archive' ? 'MissingArchiveProperty' : 'MissingStructuredProperty';
      if (values.length === 0) f.add(reason, `${L} lack bsi:component:${key}`, c.pointer);
      else if (values.length > 1) f.add('InvalidBsiProperty', `${L} have bsi:component:${key} more than once`, c.pointer);
      else if (!(ALLOWED[key] as readonly string[]).includes(values[0]!)) {
        f.add('InvalidBsiProperty', `${L} have bsi:component:${key} not one of ${ALLOWED[key].map((v) => `"${v}"`).join(', ')}`, c.pointer);
      }
    }
  }
  const n = m.components.length;
  return f.findings(Object.fromEntries(FIELD_MESSAGES.map((w) => [w, n])));
}

// Messages that are per-component get "n of N" in the summary.
const FIELD_MESSAGES: string[] = [];
for (const L of ['components']) {
  FIELD_MESSAGES.push(
    `${L} lack a creator email or URL`,
    `${L} lack a name`,
    `${L} lack a version`,
    `${L} lack a filename (bsi:component:filename)`,
    `${L} lack a SHA-512 deployable hash`,
    `${L} lack bsi:component:executable`,
    `${L} lack bsi:component:archive`,
    `${L} lack bsi:component:structured`,
    `${L} lack a distribution licence`,
    `${L} lack a distribution licence (a licence with acknowledgement "concluded")`,
    `${L} have no stated completeness of their dependencies (compositions)`,
    `${L} lack a supplier name`,
    `${L} lack a unique identifier (purl, CPE, SWID or other)`,
  );
}

/** NTIA minimum elements (2021): supplier, component name, version, other unique identifiers, dependency relationship, author of SBOM data, timestamp. */
export function ruleNtia(m: SbomModel, maxPointers = 5): RuleFinding[] {
  const f = new FindingCollector(maxPointers, NTIA_BASIS);
  if (m.authors.length === 0) f.add('MissingSbomAuthor', 'SBOM has no author of SBOM data', m.creatorPointer);
  if (!m.timestamp) f.add('MissingSbomTimestamp', 'SBOM timestamp is missing', m.timestampPointer);
  for (const c of m.components) {
    const L = label(c);
    if (!c.supplier && !hasContact(c.creator)) f.add('MissingSupplier', `${L} lack a supplier name`, c.pointer);
    if (!c.name) f.add('MissingComponentName', `${L} lack a name`, c.pointer);
    if (!c.version) f.add('MissingComponentVersion', `${L} lack a version`, c.pointer);
    if (!c.purl && !c.cpe && c.otherIds === 0) f.add('MissingUniqueIdentifier', `${L} lack a unique identifier (purl, CPE, SWID or other)`, c.pointer);
  }
  const primary = m.components.find((c) => c.primary);
  if (!primary) f.add('NoPrimaryComponent', 'SBOM declares no primary component, so no dependency relationship', '');
  else if (primary.ref === undefined || (!m.dependencies.some((d) => d.ref === primary.ref) && primary.nested === 0)) {
    f.add('MissingTopLevelDependencies', 'the primary component has no dependency relationship', primary.pointer);
  }
  const n = m.components.length;
  return f.findings(Object.fromEntries(FIELD_MESSAGES.map((w) => [w, n])));
}

// ---- sbom.top-level-deps ----------------------------------------------------------------------------------

export function ruleTopLevelDeps(m: SbomModel): RuleFinding[] {
  const primary = m.components.find((c) => c.primary);
  if (!primary) return [one('NoPrimaryComponent', m.format === 'CycloneDX' ? '/metadata/component' : '', 'SBOM declares no primary component')];
  const deps = primary.ref !== undefined ? depIndex(m).get(primary.ref) : undefined;
  // The direct dependencies must be components of this SBOM (or references to other BOMs): a dangling one does
  // not "cover" a top-level dependency (Annex I Part II(1)).
  const known = refIndex(m);
  const dangling = (deps?.dependsOn ?? []).filter((r) => !known.has(r) && !r.startsWith('urn:cdx:') && !r.startsWith('DocumentRef-'));
  if (dangling.length > 0) {
    const names = dangling.slice(0, 3).map((r) => JSON.stringify(r.slice(0, 60))).join(', ');
    return [one('DanglingReference', deps!.pointer, `the primary component's direct dependencies refer to ${dangling.length} undefined component(s) (${names})`)];
  }
  if ((deps?.dependsOn.length ?? 0) > 0 || primary.nested > 0) return [];
  if (deps && primary.ref !== undefined && m.compositions.some((c) => c.aggregate === 'complete' && c.refs.includes(primary.ref!))) {
    return []; // declared: no dependencies, and that list is complete
  }
  return [
    one(
      'MissingTopLevelDependencies',
      deps?.pointer ?? primary.pointer,
      deps ? 'the primary component declares no direct dependencies and does not state that this is complete' : 'the primary component has no dependencies entry',
    ),
  ];
}

function one(reason: Reason, pointer: string, message: string, basis: Basis = CRA_SBOM): RuleFinding {
  return { reason, pointer, count: 1, pointers: [pointer], message, basis };
}

// ---- sbom.complete ----------------------------------------------------------------------------------------

/** `/components/3/components/1` → `/components/3`; undefined for a top-level component (or any other pointer). */
function parentPointer(p: string): string | undefined {
  const at = p.lastIndexOf('/components/');
  if (at <= 0) return undefined;
  const n = p.length;
  const from = at + '/components/'.length;
  if (from >= n) return undefined;
  for (let i = from; i < n; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return p.slice(0, at);
}

/**
 * Children by the index of their parent (CycloneDX nested components: a child's pointer is its parent's plus
 * `/components/<i>`); undefined when no component nests others (`nested` is 0 everywhere), the common case.
 */
function nesting(components: readonly SbomComponent[]): (number[] | undefined)[] | undefined {
  if (!components.some((c) => c.nested > 0)) return undefined;
  const n = components.length;
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) indexOf.set(components[i]!.pointer, i);
  const childrenOf = new Array<number[] | undefined>(n);
  for (let i = 0; i < n; i++) {
    const parent = parentPointer(components[i]!.pointer);
    const pi = parent === undefined ? undefined : indexOf.get(parent);
    if (pi !== undefined) (childrenOf[pi] ??= []).push(i);
  }
  return childrenOf;
}

export function ruleComplete(m: SbomModel, maxPointers = 5): RuleFinding[] {
  // Guidance: the TR asks for the whole graph (§5.1 level of detail, §5.2.2 dependencies and their completeness);
  // the CRA text asks only for the top-level dependencies (ruleTopLevelDeps).
  const f = new FindingCollector(maxPointers, tr('§5.1'));
  const n = m.components.length;
  const refToIdx = refIndex(m);
  const refs = refToIdx;
  for (const d of m.duplicateRefs) for (const p of d.pointers.slice(1)) f.add('DuplicateBomRef', `identifiers are used by more than one component`, p);
  const isExternal = (r: string) => r.startsWith('DocumentRef-') || r.startsWith('urn:cdx:') || r === 'NONE' || r === 'NOASSERTION';
  for (const d of m.dependencies) {
    if (!refs.has(d.ref) && !isExternal(d.ref)) f.add('DanglingReference', 'dependency entries refer to undefined components', `${d.pointer}${m.format === 'CycloneDX' ? '/ref' : ''}`);
    d.dependsOn.forEach((r, i) => {
      if (!refs.has(r) && !isExternal(r)) f.add('DanglingReference', 'dependency entries refer to undefined components', m.format === 'CycloneDX' ? `${d.pointer}/dependsOn/${i}` : d.pointer);
    });
  }
  for (const c of m.compositions) for (const r of c.refs) if (!refs.has(r) && !isExternal(r)) f.add('DanglingReference', 'compositions refer to undefined components', c.pointer);
  for (const r of m.invalidRelationships ?? []) f.add('InvalidSbomRelationship', r.message, r.pointer, guidanceBasis('SPDX 3.0.1 Core/Relationship'));

  const primaryIdx = m.components.findIndex((c) => c.primary);
  const primary = m.components[primaryIdx];
  if (!primary) {
    f.add('NoPrimaryComponent', 'SBOM declares no primary component', m.format === 'CycloneDX' ? '/metadata/component' : '');
    return f.findings();
  }
  // Reachability from the primary component: dependsOn edges plus nesting (a parent contains its children).
  // Components by index (pointers are unique positions in the document), visited at most once each.
  const childrenOf = nesting(m.components);
  const deps = depIndex(m);
  const seen = new Uint8Array(n);
  seen[primaryIdx] = 1;
  const queue: number[] = [primaryIdx];
  const visit = (j: number): void => {
    if (seen[j]) return;
    seen[j] = 1;
    queue.push(j);
  };
  for (let qi = 0; qi < queue.length; qi++) {
    const i = queue[qi]!;
    const children = childrenOf?.[i];
    if (children) for (const j of children) visit(j);
    const ref = m.components[i]!.ref;
    const to = ref === undefined ? undefined : deps.get(ref)?.dependsOn;
    if (to) {
      for (const r of to) {
        const js = refToIdx.get(r);
        if (typeof js === 'number') visit(js);
        else if (js) for (const j of js) visit(j);
      }
    }
  }
  for (let i = 0; i < n; i++) if (!seen[i]) f.add('UnreachableComponent', 'components are not reachable from the primary component', m.components[i]!.pointer);

  const complete = completenessIndex(m);
  if (!m.completenessExpressible) {
    f.add('CompletenessNotStated', `SPDX ${m.specVersion} cannot state completeness; use CycloneDX 1.6+ or SPDX 3.0.1`, '');
  } else if (primary.ref === undefined || !complete.has(primary.ref)) {
    f.add('CompletenessNotStated', 'the completeness of the primary component\'s dependencies is not stated (compositions)', m.format === 'CycloneDX' ? '/compositions' : primary.pointer);
  }
  return f.findings({ 'components are not reachable from the primary component': m.components.length });
}

// ---- sbom.licence-ids -------------------------------------------------------------------------------------

export function isValidLicenceExpression(expr: string): boolean {
  if (expr.length > 2000) return false;
  try {
    parseSpdx(expr);
    return true;
  } catch {
    return false;
  }
}

export function ruleLicenceIds(m: SbomModel, maxPointers = 5): RuleFinding[] {
  const f = new FindingCollector(maxPointers, tr('§6.1'));
  const cache = new Map<string, boolean>();
  for (const c of m.components) {
    for (const l of c.licences) {
      if (l.expression !== undefined) {
        let ok = cache.get(l.expression);
        if (ok === undefined) cache.set(l.expression, (ok = isValidLicenceExpression(l.expression)));
        if (!ok) f.add('InvalidLicenceExpression', 'licences are not SPDX identifiers or expressions (or LicenseRef-)', l.pointer);
      } else if (l.name !== undefined) {
        f.add('NonSpdxLicence', 'licences are given by free-text name, not an SPDX identifier or LicenseRef-', l.pointer);
      } else if (l.textOnly) {
        f.add('NonSpdxLicence', 'licences are given as text only, without an SPDX identifier', l.pointer);
      }
    }
  }
  return f.findings();
}

// ---- sbom.no-vuln-data ------------------------------------------------------------------------------------

export function ruleNoVulnData(m: SbomModel): RuleFinding[] {
  if (m.vulnerabilities.count === 0) return [];
  return [
    {
      reason: 'VulnerabilityDataInSbom',
      pointer: m.vulnerabilities.pointer,
      count: m.vulnerabilities.count,
      pointers: [m.vulnerabilities.pointer],
      message: `the SBOM carries ${m.vulnerabilities.count} vulnerability record(s); TR-03183-2 §8.1.14: distribute them as CSAF/VEX instead`,
      basis: tr('§8.1.14'),
    },
  ];
}

// ---- sbom.per-version -------------------------------------------------------------------------------------

export function normaliseVersion(v: string): string {
  return v.trim().replace(/^v(?=\d)/i, '');
}

export function rulePerVersion(m: SbomModel, releaseVersion: string | undefined): RuleFinding[] {
  const primary = m.components.find((c) => c.primary);
  if (!primary) return [one('NoPrimaryComponent', m.format === 'CycloneDX' ? '/metadata/component' : '', 'SBOM declares no primary component, so its version is unknown')];
  if (!primary.version) return [one('SbomVersionMismatch', `${primary.pointer}/version`, 'the primary component has no version')];
  if (releaseVersion === undefined || normaliseVersion(primary.version) !== normaliseVersion(releaseVersion)) {
    return [
      one(
        'SbomVersionMismatch',
        m.format === 'CycloneDX' ? `${primary.pointer}/version` : primary.pointer,
        `the SBOM describes version ${JSON.stringify(primary.version)}, the release is ${JSON.stringify(releaseVersion ?? '')}`,
      ),
    ];
  }
  return [];
}
