/**
 * Binding a VEX statement to THIS release (issue 13, item 2). A statement speaks for the release only
 * through a target whose product identifies the release as its SBOM describes it:
 *  - a purl of the primary component with the same version (a purl without a version identifies no release),
 *  - a CPE of the primary component (part, vendor, product) with the same, concrete version,
 *  - a CycloneDX BOM-Link `urn:cdx:<serial>/<version>[#<bom-ref>]` whose serial number and version are this
 *    SBOM's (a fragment naming a non-primary component scopes the statement to that component).
 * Everything else — another product, another version, another BOM, a bare name, no product at all — is
 * ignored, and `vexBinding` says why, by JSON pointer into the VEX document. A target with components
 * (OpenVEX subcomponents, a CSAF relationship, a CycloneDX component of a VEX whose subject is this release)
 * covers only those components.
 */
import type { SbomModel } from '../sbom/model.ts';
import { packageIdFromPurl, purlMatches } from '../vuln/purl.ts';
import type { VexDocument, VexRef, VexStatement, VexTarget } from './parse.ts';

/** The release's product as one SBOM describes it. */
export interface VexProduct {
  readonly purl?: string;
  readonly cpe?: string;
  readonly ref?: string;
  readonly version?: string;
  /** The SBOM's serial number (`urn:uuid:…`). */
  readonly serialNumber?: string;
  /** The SBOM's version (CycloneDX). */
  readonly bomVersion?: number;
  /** bom-refs of the SBOM's components (a BOM-Link fragment must name one). */
  readonly refs?: ReadonlySet<string>;
}

/** A component a match was found in. */
export interface VexComponentId {
  readonly purl?: string;
  readonly ref?: string;
  readonly cpe?: string;
}

export function vexProductOf(model: SbomModel): VexProduct | undefined {
  const primary = model.components.find((c) => c.primary);
  if (!primary) return undefined;
  return {
    ...(primary.purl ? { purl: primary.purl } : {}),
    ...(primary.cpe ? { cpe: primary.cpe } : {}),
    ...(primary.ref ? { ref: primary.ref } : {}),
    ...(primary.version ? { version: primary.version } : {}),
    ...(model.uri ? { serialNumber: model.uri } : {}),
    ...(model.bomVersion !== undefined ? { bomVersion: model.bomVersion } : {}),
    refs: new Set(model.components.map((c) => c.ref).filter((r): r is string => r !== undefined)),
  };
}

// ---- identifiers -----------------------------------------------------------------------------------------

interface Cpe {
  readonly part: string;
  readonly vendor: string;
  readonly product: string;
  readonly version: string;
}

/** Part, vendor, product, version of a CPE 2.3 formatted string or a CPE 2.2 URI (lower-cased, unescaped). */
export function cpeParts(text: string): Cpe | undefined {
  let fields: string[];
  if (/^cpe:2\.3:/i.test(text)) {
    fields = text.slice(8).split(/(?<!\\):/).map((f) => f.replace(/\\(.)/g, '$1'));
    if (fields.length !== 11) return undefined;
  } else if (/^cpe:\//i.test(text)) {
    try {
      fields = text.slice(5).split(':').map((f) => decodeURIComponent(f));
    } catch {
      return undefined;
    }
    while (fields.length < 4) fields.push('');
  } else return undefined;
  const [part, vendor, product, version] = fields.map((f) => f.toLowerCase()) as [string, string, string, string];
  if (!/^[aho]$/.test(part) || vendor === '' || product === '') return undefined;
  return { part, vendor, product, version };
}

const ANY_VERSION = new Set(['', '*', '-', 'na']);

function serialOf(urn: string | undefined): string | undefined {
  return urn?.toLowerCase().replace(/^urn:uuid:/, '');
}

type Identifies = { readonly ok: true; readonly component?: VexRef } | { readonly ok: false; readonly why: string };

/** Whether one identifier designates the release `p`. */
function identifies(r: VexRef, p: VexProduct): Identifies {
  switch (r.kind) {
    case 'purl': {
      const a = packageIdFromPurl(r.value);
      if (!a) return { ok: false, why: `"${r.value.slice(0, 100)}" is not a valid purl` };
      if (!p.purl) return { ok: false, why: `purl ${r.value.slice(0, 100)} cannot be compared: the SBOM's primary component has no purl` };
      const b = packageIdFromPurl(p.purl);
      if (!b || a.key !== b.key) return { ok: false, why: `purl ${r.value.slice(0, 100)} names another product than ${p.purl.slice(0, 100)}` };
      const mine = b.version ?? p.version;
      if (a.version === undefined) return { ok: false, why: `purl ${r.value.slice(0, 100)} names no version; this release is ${mine ?? '(no version)'}` };
      if (a.version !== mine) return { ok: false, why: `purl ${r.value.slice(0, 100)} is about version ${a.version}, not ${mine ?? '(no version)'}` };
      return { ok: true };
    }
    case 'cpe': {
      const a = cpeParts(r.value);
      if (!a) return { ok: false, why: `"${r.value.slice(0, 100)}" is not a valid CPE` };
      const b = p.cpe ? cpeParts(p.cpe) : undefined;
      if (!b) return { ok: false, why: `CPE ${r.value.slice(0, 100)} cannot be compared: the SBOM's primary component has no valid CPE` };
      if (a.part !== b.part || a.vendor !== b.vendor || a.product !== b.product) {
        return { ok: false, why: `CPE ${r.value.slice(0, 100)} names another product than ${p.cpe!.slice(0, 100)}` };
      }
      const mine = ANY_VERSION.has(b.version) ? p.version?.toLowerCase() : b.version;
      if (ANY_VERSION.has(a.version)) return { ok: false, why: `CPE ${r.value.slice(0, 100)} names no concrete version; this release is ${mine ?? '(no version)'}` };
      if (a.version !== mine) return { ok: false, why: `CPE ${r.value.slice(0, 100)} is about version ${a.version}, not ${mine ?? '(no version)'}` };
      return { ok: true };
    }
    case 'bomlink': {
      const link = `urn:cdx:${r.serial}/${r.version}`;
      if (!p.serialNumber) return { ok: false, why: `BOM-Link ${link} cannot be compared: the SBOM has no serialNumber` };
      if (serialOf(r.serial) !== serialOf(p.serialNumber)) return { ok: false, why: `BOM-Link ${link} is about another BOM than ${p.serialNumber}` };
      if (r.version !== p.bomVersion) return { ok: false, why: `BOM-Link ${link} is about version ${r.version} of the BOM, not ${p.bomVersion ?? '(none)'}` };
      if (r.ref === undefined || r.ref === p.ref) return { ok: true };
      if (p.refs?.has(r.ref)) return { ok: true, component: r };
      return { ok: false, why: `BOM-Link ${link} names bom-ref "${r.ref.slice(0, 80)}", which is not in this SBOM` };
    }
    default:
      return { ok: false, why: `"${r.value.slice(0, 100)}" is neither a purl, a CPE nor a BOM-Link: it identifies no release` };
  }
}

function identifiesAny(refs: readonly VexRef[], p: VexProduct): Identifies {
  let first: Identifies | undefined;
  for (const r of refs) {
    const i = identifies(r, p);
    if (i.ok) return i;
    first ??= i;
  }
  return first ?? { ok: false, why: 'names no product' };
}

export type TargetBinding =
  /** The statement covers the whole release (`components` absent) or only the listed components. */
  | { readonly applies: true; readonly components?: readonly VexRef[] }
  | { readonly applies: false; readonly why: string };

const memo = new WeakMap<VexProduct, WeakMap<VexTarget, TargetBinding>>();

/** Whether target `t` binds to release `p` (memoised per product object: one SBOM's matches share it). */
export function bindTarget(t: VexTarget, p: VexProduct | undefined): TargetBinding {
  if (!p) return bindUncached(t, p);
  let inner = memo.get(p);
  if (!inner) memo.set(p, (inner = new WeakMap()));
  let b = inner.get(t);
  if (!b) inner.set(t, (b = bindUncached(t, p)));
  return b;
}

function bindUncached(t: VexTarget, p: VexProduct | undefined): TargetBinding {
  if (t.unresolved) return { applies: false, why: t.unresolved };
  if (!p) return { applies: false, why: 'the SBOM declares no primary component to bind VEX statements to' };
  const direct = identifiesAny(t.product, p);
  if (direct.ok) {
    if (t.components) return { applies: true, components: t.components };
    return direct.component ? { applies: true, components: [direct.component] } : { applies: true };
  }
  // CycloneDX: a component of a VEX document whose subject is this release.
  if (t.within && identifiesAny(t.within, p).ok) return { applies: true, components: t.product };
  return { applies: false, why: direct.why };
}

/** Whether a component the statement is scoped to designates `c`. */
export function componentMatches(r: VexRef, c: VexComponentId): boolean {
  switch (r.kind) {
    case 'purl':
      return c.purl !== undefined && purlMatches(r.value, c.purl);
    case 'cpe': {
      const a = cpeParts(r.value);
      const b = c.cpe ? cpeParts(c.cpe) : undefined;
      if (!a || !b || a.part !== b.part || a.vendor !== b.vendor || a.product !== b.product) return false;
      return a.version === '*' || a.version === '' || a.version === b.version;
    }
    case 'bomlink':
      return r.ref !== undefined && r.ref === c.ref;
    default:
      return false;
  }
}

/** Whether statement `s` speaks for component `c` of release `p`. */
export function statementApplies(s: VexStatement, c: VexComponentId, p: VexProduct | undefined): boolean {
  return s.targets.some((t) => {
    const b = bindTarget(t, p);
    return b.applies && (b.components === undefined || b.components.some((r) => componentMatches(r, c)));
  });
}

export interface IgnoredStatement {
  readonly source: string;
  /** Pointer of the statement in its VEX document. */
  readonly pointer: string;
  /** Pointer of the product entry that came closest (the first target). */
  readonly targetPointer: string;
  readonly why: string;
}

export interface VexBinding {
  /** Statements that bind to at least one of the release's products. */
  readonly applicable: number;
  readonly ignored: readonly IgnoredStatement[];
}

/** Which statements of the documents are about the release (any of its SBOMs' products), and why the others are not. */
export function vexBinding(documents: readonly { readonly source: string; readonly doc: VexDocument }[], products: readonly (VexProduct | undefined)[]): VexBinding {
  let applicable = 0;
  const ignored: IgnoredStatement[] = [];
  for (const { source, doc } of documents) {
    for (const s of doc.statements) {
      let why: string | undefined;
      let at = s.targets[0]?.pointer ?? s.pointer;
      let bound = false;
      for (const t of s.targets) {
        for (const p of products.length > 0 ? products : [undefined]) {
          const b = bindTarget(t, p);
          if (b.applies) bound = true;
          else if (why === undefined) {
            why = b.why;
            at = t.pointer;
          }
        }
        if (bound) break;
      }
      if (bound) applicable++;
      else ignored.push({ source, pointer: s.pointer, targetPointer: at, why: why ?? 'names no product' });
    }
  }
  return { applicable, ignored };
}
