/**
 * The compact analysis result (issue 16): what the operator keeps of an analysed SBOM on its main heap. The full
 * model (every component's hashes, licences, file names, contacts, URIs, the dependency graph) is about 4.6× its
 * document on the heap; the operator's checks read only
 *  - the SBOM rules' findings (../checks/sbom.ts), computed here, where the full model still exists, for every
 *    profile (the cached analysis is shared by releases under different policies), and
 *  - per component the identity vulnerability matching and VEX binding use (../vuln/assess.ts, ../vex/bind.ts:
 *    pointer, bom-ref, primary, type, group, name, version, purl, CPE), plus the whole primary component (sbom.present,
 *    artifact.hash), the document's identity and timestamp (placed-on-market, the dossier).
 * So a worker returns `compactAnalysis(full)`, a fraction of the model to clone back and cache. Pure, never throws.
 *
 * A reduced model's non-primary components carry shared empty lists for the fields not kept: never run a model rule
 * on it. `SbomAnalysisOk.findings` is present exactly when the model is reduced, and the checks then read the
 * precomputed findings (`ruleFindings`).
 */
import type { SbomAnalysisOk } from './analyze.ts';
import type { SbomComponent, SbomModel } from './model.ts';
import { ruleBsiFields, ruleComplete, ruleLicenceIds, ruleNoVulnData, ruleNtia, ruleTopLevelDeps } from './rules.ts';
import type { RuleFinding } from './rules.ts';

/** The model rules' findings, computed on the full model with the checks' default pointer count. */
export interface SbomRuleFindings {
  readonly 'bsi-2.1': readonly RuleFinding[];
  readonly 'bsi-2.0': readonly RuleFinding[];
  readonly ntia: readonly RuleFinding[];
  readonly topLevelDeps: readonly RuleFinding[];
  readonly complete: readonly RuleFinding[];
  readonly licenceIds: readonly RuleFinding[];
  readonly noVulnData: readonly RuleFinding[];
}

export type SbomRuleName = keyof SbomRuleFindings;

/** Runs every model rule the checks use on the full model. */
export function computeRuleFindings(m: SbomModel): SbomRuleFindings {
  return {
    'bsi-2.1': ruleBsiFields(m, 'bsi-2.1'),
    'bsi-2.0': ruleBsiFields(m, 'bsi-2.0'),
    ntia: ruleNtia(m),
    topLevelDeps: ruleTopLevelDeps(m),
    complete: ruleComplete(m),
    licenceIds: ruleLicenceIds(m),
    noVulnData: ruleNoVulnData(m),
  };
}

/** A rule's findings for an analysis: the precomputed ones of a compact result, else the rule run on its full model. */
export function ruleFindings(a: SbomAnalysisOk, rule: SbomRuleName, run: (m: SbomModel) => readonly RuleFinding[]): readonly RuleFinding[] {
  return a.findings ? a.findings[rule] : run(a.model);
}

const NONE: readonly never[] = Object.freeze([]);
const NO_CONTACT = Object.freeze({ emails: NONE, urls: NONE });

/** The fields of a non-primary component the checks read; everything else is dropped. */
export interface ComponentIdentity {
  readonly pointer: string;
  readonly ref?: string;
  readonly type?: string;
  readonly group?: string;
  readonly name?: string;
  readonly version?: string;
  readonly purl?: string;
  readonly cpe?: string;
}

/** What crosses the thread boundary and is cached: non-primary components as bare identities. */
export interface CompactAnalysisWire extends Omit<SbomAnalysisOk, 'model' | 'findings'> {
  readonly findings: SbomRuleFindings;
  readonly model: Omit<SbomModel, 'components' | 'dependencies' | 'compositions' | 'duplicateRefs'> & {
    readonly primary: readonly SbomComponent[];
    /** Index of each primary component in the original component order. */
    readonly primaryAt: readonly number[];
    readonly identities: readonly ComponentIdentity[];
  };
}

function identity(c: SbomComponent): ComponentIdentity {
  const o: { -readonly [K in keyof ComponentIdentity]: ComponentIdentity[K] } = { pointer: c.pointer };
  if (c.ref !== undefined) o.ref = c.ref;
  if (c.type !== undefined) o.type = c.type;
  if (c.group !== undefined) o.group = c.group;
  if (c.name !== undefined) o.name = c.name;
  if (c.version !== undefined) o.version = c.version;
  if (c.purl !== undefined) o.purl = c.purl;
  if (c.cpe !== undefined) o.cpe = c.cpe;
  return o;
}

/** The wire form of a full analysis (in the worker): findings computed, components reduced to their identity. */
export function toCompactWire(a: SbomAnalysisOk): CompactAnalysisWire {
  const { components, dependencies: _d, compositions: _c, duplicateRefs: _r, ...rest } = a.model;
  const primary: SbomComponent[] = [];
  const primaryAt: number[] = [];
  const identities: ComponentIdentity[] = [];
  components.forEach((c, i) => {
    if (c.primary) {
      primary.push(c);
      primaryAt.push(i);
    } else identities.push(identity(c));
  });
  const { model: _m, findings: _f, ...head } = a;
  return { ...head, findings: a.findings ?? computeRuleFindings(a.model), model: { ...rest, primary, primaryAt, identities } };
}

/** Characters in the identity strings of a wire result's non-primary components (for `resultBytesEstimate`). */
export function identityChars(w: CompactAnalysisWire): number {
  let n = 0;
  for (const c of w.model.identities) n += identityLength(c);
  return n;
}

/** Characters in one component's identity strings. */
function identityLength(c: ComponentIdentity): number {
  return (
    c.pointer.length + (c.ref?.length ?? 0) + (c.type?.length ?? 0) + (c.group?.length ?? 0) + (c.name?.length ?? 0) +
    (c.version?.length ?? 0) + (c.purl?.length ?? 0) + (c.cpe?.length ?? 0)
  );
}

/** Characters in the identity strings of an analysis's non-primary components (its cost in the cache). */
export function componentChars(a: SbomAnalysisOk): { components: number; chars: number } {
  let components = 0;
  let chars = 0;
  for (const c of a.model.components) {
    if (c.primary) continue;
    components++;
    chars += identityLength(c);
  }
  return { components, chars };
}

/** A worker's first message for an analysed document: the main-heap bytes its compact result needs (./worker.ts). */
export interface ResultEstimate {
  readonly kind: 'estimate';
  readonly needBytes: number;
  readonly components: number;
}

/** Whether a worker's message is a compact wire result (rather than a failed analysis). */
export function isCompactWire(x: unknown): x is CompactAnalysisWire {
  return typeof x === 'object' && x !== null && (x as { ok?: unknown }).ok === true && typeof (x as { findings?: unknown }).findings === 'object';
}

const CANONICAL_POINTER = /^\/components\/(0|[1-9]\d{0,8})$/;

/**
 * A non-primary component of a compact result: its identity as own fields (9 slots), everything else constant on
 * the prototype. Its pointer is kept as the component's index when it is the canonical `/components/<i>`.
 */
class ReducedComponent implements SbomComponent {
  readonly #at: number | string;
  readonly ref: string | undefined;
  readonly type: string | undefined;
  readonly group: string | undefined;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly purl: string | undefined;
  readonly cpe: string | undefined;

  constructor(id: ComponentIdentity, strings: Map<string, string>) {
    const m = CANONICAL_POINTER.exec(id.pointer);
    this.#at = m ? Number(m[1]) : id.pointer;
    this.purl = id.purl;
    // bom-refs are often the purl: one string for both.
    this.ref = id.ref !== undefined && id.ref === id.purl ? id.purl : id.ref;
    this.type = intern(strings, id.type);
    this.group = intern(strings, id.group);
    this.name = id.name;
    this.version = intern(strings, id.version);
    this.cpe = id.cpe;
  }

  get pointer(): string {
    return typeof this.#at === 'number' ? `/components/${this.#at}` : this.#at;
  }
  get primary(): boolean {
    return false;
  }
  get otherIds(): number {
    return 0;
  }
  get creator(): SbomComponent['creator'] {
    return NO_CONTACT;
  }
  get filename(): readonly string[] {
    return NONE;
  }
  get executable(): readonly string[] {
    return NONE;
  }
  get archive(): readonly string[] {
    return NONE;
  }
  get structured(): readonly string[] {
    return NONE;
  }
  get hashes(): SbomComponent['hashes'] {
    return NONE;
  }
  get licences(): SbomComponent['licences'] {
    return NONE;
  }
  get referencesBom(): boolean {
    return false;
  }
  get nested(): number {
    return 0;
  }
  get uris(): SbomComponent['uris'] {
    return NONE;
  }

  /** Its identity as plain data (JSON, logs, comparisons). */
  toJSON(): ComponentIdentity & { primary: false } {
    return { ...identity(this), primary: false };
  }
}

/** Repeated values (types, groups, versions) as one string each; the clone made one copy per component. */
function intern(strings: Map<string, string>, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = strings.get(v);
  if (t !== undefined) return t;
  if (strings.size < 65_536) strings.set(v, v);
  return v;
}

/** Rebuilds the analysis the checks read from its wire form (on the main thread). */
export function fromCompactWire(w: CompactAnalysisWire): SbomAnalysisOk {
  const { primary, primaryAt, identities, ...rest } = w.model;
  const components: SbomComponent[] = new Array<SbomComponent>(identities.length + primary.length);
  const strings = new Map<string, string>();
  let p = 0;
  let k = 0;
  for (let i = 0; i < components.length; i++) {
    if (p < primary.length && primaryAt[p] === i) components[i] = primary[p++]!;
    else components[i] = new ReducedComponent(identities[k++]!, strings);
  }
  return { ...w, model: { ...rest, components, dependencies: NONE, compositions: NONE, duplicateRefs: NONE } };
}

/** The compact form of a full analysis in one thread (the in-process path): the same result a worker returns. */
export function compactAnalysis(a: SbomAnalysisOk): SbomAnalysisOk {
  return a.findings ? a : fromCompactWire(toCompactWire(a));
}
