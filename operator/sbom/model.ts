/**
 * A format-neutral model of an SBOM, extracted from CycloneDX JSON, SPDX 2.x JSON or SPDX 3 JSON-LD, holding
 * exactly what the checks need, each item with the RFC 6901 pointer of where it sits in the document.
 * Plain data (structured-clone safe) so it can cross a worker-thread boundary. All walks are iterative or
 * bounded by the depth limit enforced before parsing.
 */
import type { DetectedSbom, SbomFormat } from './parse.ts';
import { isObject } from '../util/json.ts';
import { pointerSegment } from '../util/json-pointer.ts';

export interface Contact {
  readonly emails: readonly string[];
  readonly urls: readonly string[];
}

export interface SbomHash {
  /** Normalised: `sha512`, `sha256`, `sha1`, … */
  readonly alg: string;
  /** Lowercase hex. */
  readonly content: string;
  /** `distribution`: on the deployable form (CycloneDX externalReferences[type=distribution]; SPDX distribution artifact). */
  readonly where: 'distribution' | 'component';
  readonly pointer: string;
}

export interface SbomLicence {
  /** An SPDX expression or id as written, when the entry names one. */
  readonly expression?: string;
  /** A free-text licence name (CycloneDX license.name) — not an SPDX identifier. */
  readonly name?: string;
  /** Licence text only, no identifier. */
  readonly textOnly?: boolean;
  /** CycloneDX 1.6 `acknowledgement` (`declared` | `concluded`); SPDX: concluded/declared by field. */
  readonly acknowledgement?: string;
  readonly pointer: string;
}

/** A §5.2.4 URI of a component as written: the source code URI or the URI of the deployable form. */
export interface SbomUri {
  readonly kind: 'source' | 'deployable';
  readonly value: string;
  readonly pointer: string;
}

export interface SbomComponent {
  readonly pointer: string;
  readonly ref?: string;
  readonly primary: boolean;
  readonly type?: string;
  readonly name?: string;
  readonly version?: string;
  readonly group?: string;
  readonly purl?: string;
  readonly cpe?: string;
  /** Other unique identifiers besides purl/cpe (swid, SPDX external identifiers). */
  readonly otherIds: number;
  readonly creator: Contact;
  /** Supplier name (NTIA "supplier"). */
  readonly supplier?: string;
  /** Values of the BSI taxonomy properties (or their SPDX 3 mapping), as found; more than one is a finding. */
  readonly filename: readonly string[];
  readonly executable: readonly string[];
  readonly archive: readonly string[];
  readonly structured: readonly string[];
  readonly hashes: readonly SbomHash[];
  readonly licences: readonly SbomLicence[];
  readonly scope?: string;
  /** Refers to another BOM (CycloneDX externalReferences[type=bom]); §3.2.5 referenced component. */
  readonly referencesBom: boolean;
  /** Number of nested (contained) components. */
  readonly nested: number;
  /** TR §5.2.4 URIs (source code, deployable form) as written, when present. */
  readonly uris: readonly SbomUri[];
}

export interface SbomDependency {
  readonly ref: string;
  readonly dependsOn: readonly string[];
  readonly pointer: string;
}

export interface SbomComposition {
  /** `complete` | `incomplete` | `unknown` | … (CycloneDX aggregate; SPDX 3 completeness). */
  readonly aggregate: string;
  readonly refs: readonly string[];
  readonly pointer: string;
}

export interface SbomModel {
  readonly format: SbomFormat;
  readonly specVersion: string;
  readonly creator: Contact;
  readonly creatorPointer: string;
  /** Names of SBOM authors (NTIA "author of SBOM data"): authors, manufacturer, tools, SPDX creators. */
  readonly authors: readonly string[];
  readonly timestamp?: string;
  readonly timestampPointer: string;
  /** The SBOM's URI (CycloneDX serialNumber, SPDX documentNamespace / SpdxDocument id). */
  readonly uri?: string;
  /** CycloneDX `version` of the BOM (BOM-Link `urn:cdx:<serialNumber>/<version>`). */
  readonly bomVersion?: number;
  /** Components; the primary component (when declared) comes first with `primary: true`. */
  readonly components: readonly SbomComponent[];
  readonly dependencies: readonly SbomDependency[];
  /** Whether the format records dependency completeness at all (SPDX 2 does not). */
  readonly completenessExpressible: boolean;
  readonly compositions: readonly SbomComposition[];
  /** Refs that identify more than one component: ref -> pointers. */
  readonly duplicateRefs: readonly { ref: string; pointers: readonly string[] }[];
  /** Vulnerability data inside the SBOM (TR §8.1.14): pointer and count. */
  readonly vulnerabilities: { readonly count: number; readonly pointer: string };
  /** Relationships the format's model says are not valid (SPDX 3.0.1: NoneElement with other elements). */
  readonly invalidRelationships?: readonly { readonly pointer: string; readonly message: string }[];
}

/**
 * Lists of a component are mostly empty or of one item: absent ones share this (frozen) empty list, and a list
 * starts as a one-item literal, so that a component does not carry a push-grown backing store of 17 slots per list
 * (the model of a 50k-component SBOM would otherwise outweigh the parsed document).
 */
const NONE: readonly never[] = Object.freeze([]);
function add<T>(list: T[] | undefined, x: T): T[] {
  if (list === undefined) return [x];
  list.push(x);
  return list;
}

/**
 * The strings of a JSON array: the parsed array itself when it holds only strings (the common case; the model
 * never mutates it), else a filtered copy.
 */
function stringsOf(v: unknown): readonly string[] {
  if (!Array.isArray(v)) return NONE;
  for (const x of v) if (typeof x !== 'string') return v.filter((y): y is string => typeof y === 'string');
  return v as string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const seg = pointerSegment;

export function normaliseAlg(alg: string): string {
  return alg.toLowerCase().replace(/[^a-z0-9]/g, '').replace(/^sha3/, 'sha3-');
}

function emailOf(v: unknown): string | undefined {
  const s = str(v);
  return s && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) ? s.trim() : undefined;
}
/** urlOf per distinct string: SBOMs repeat the same manufacturer/supplier URLs on thousands of components. */
const urlMemo = new Map<string, string | undefined>();
const URL_MEMO_MAX = 4096;
function urlOf(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  if (urlMemo.has(s)) return urlMemo.get(s);
  let out: string | undefined;
  try {
    const u = new URL(s.trim());
    out = u.protocol === 'https:' || u.protocol === 'http:' ? s.trim() : undefined;
  } catch {
    out = undefined;
  }
  if (urlMemo.size >= URL_MEMO_MAX) urlMemo.clear();
  urlMemo.set(s, out);
  return out;
}

// ---- CycloneDX ------------------------------------------------------------------------------------------

/** Contact details while they are collected (lists created on the first item). */
interface ContactAcc {
  emails?: string[];
  urls?: string[];
}
function contactOf(acc: ContactAcc): Contact {
  return { emails: acc.emails ?? NONE, urls: acc.urls ?? NONE };
}

/** CycloneDX organizationalEntity (manufacturer / supplier / manufacture): url[] and contact[].email. */
function cdxEntityContact(entity: unknown, into: ContactAcc): void {
  if (!isObject(entity)) return;
  for (const u of arr(entity.url)) {
    const x = urlOf(u);
    if (x) into.urls = add(into.urls, x);
  }
  for (const c of arr(entity.contact)) {
    if (isObject(c)) {
      const e = emailOf(c.email);
      if (e) into.emails = add(into.emails, e);
    }
  }
}

/** CycloneDX `authors[]` (organizationalContact): each valid email. */
function cdxAuthorEmails(authors: unknown, into: ContactAcc): void {
  for (const a of arr(authors)) {
    if (!isObject(a)) continue;
    const e = emailOf(a.email);
    if (e) into.emails = add(into.emails, e);
  }
}

/** normaliseAlg per distinct algorithm name (an SBOM names a handful, on every hash). */
const algMemo = new Map<string, string>();
function algOf(alg: string): string {
  let a = algMemo.get(alg);
  if (a === undefined) {
    a = normaliseAlg(alg);
    if (algMemo.size < 256) algMemo.set(alg, a);
  }
  return a;
}

/** The BSI taxonomy properties a component's model keeps (TR-03183-2 §8.2, BSI CycloneDX property taxonomy). */
const BSI_FILENAME = 'bsi:component:filename';
const BSI_EXECUTABLE = 'bsi:component:executable';
const BSI_ARCHIVE = 'bsi:component:archive';
const BSI_STRUCTURED = 'bsi:component:structured';

function cdxComponent(c: Record<string, unknown>, pointer: string, primary: boolean, legacyCreator: boolean): SbomComponent {
  const creator: ContactAcc = {};
  cdxEntityContact(c.manufacturer, creator);
  // TR §3.2.9 (normative): "“Creator” (German: “Ersteller”) describes the role of the entity that authored or
  // created the software or component. Alternatively, the term “Author” (German: “Autor”) is used." So an
  // author's email (CycloneDX organizationalContact: name, email, phone — no URL) is the creator's email.
  cdxAuthorEmails(c.authors, creator);
  // TR v2.0.0 / CycloneDX 1.5 has no component.manufacturer: accept supplier contacts there.
  if (legacyCreator) cdxEntityContact(c.supplier, creator);
  // Only the four BSI properties are kept (names compared as strings: untrusted names never index an object).
  let filename: string[] | undefined;
  let executable: string[] | undefined;
  let archive: string[] | undefined;
  let structured: string[] | undefined;
  for (const p of arr(c.properties)) {
    if (!isObject(p) || typeof p.name !== 'string') continue;
    const value = typeof p.value === 'string' ? p.value : '';
    switch (p.name) {
      case BSI_FILENAME:
        filename = add(filename, value);
        break;
      case BSI_EXECUTABLE:
        executable = add(executable, value);
        break;
      case BSI_ARCHIVE:
        archive = add(archive, value);
        break;
      case BSI_STRUCTURED:
        structured = add(structured, value);
        break;
    }
  }
  let hashes: SbomHash[] | undefined;
  const hs = arr(c.hashes);
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i];
    if (isObject(h) && typeof h.alg === 'string' && typeof h.content === 'string') {
      hashes = add(hashes, { alg: algOf(h.alg), content: h.content.toLowerCase(), where: 'component', pointer: `${pointer}/hashes/${i}` });
    }
  }
  let referencesBom = false;
  let otherIds = 0;
  let uris: SbomUri[] | undefined;
  const refs = arr(c.externalReferences);
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i];
    if (!isObject(r)) continue;
    if (r.type === 'bom') referencesBom = true;
    // TR §8.2 Table 11: source code URI = externalReferences[type=source-distribution].url; URI of the
    // deployable form = externalReferences[type=distribution].url.
    if ((r.type === 'source-distribution' || r.type === 'distribution') && typeof r.url === 'string') {
      uris = add(uris, { kind: r.type === 'distribution' ? 'deployable' : 'source', value: r.url, pointer: `${pointer}/externalReferences/${i}/url` });
    }
    if (r.type === 'distribution' || r.type === 'distribution-intake') {
      const rh = arr(r.hashes);
      for (let j = 0; j < rh.length; j++) {
        const h = rh[j];
        if (isObject(h) && typeof h.alg === 'string' && typeof h.content === 'string') {
          hashes = add(hashes, {
            alg: algOf(h.alg),
            content: h.content.toLowerCase(),
            where: 'distribution',
            pointer: `${pointer}/externalReferences/${i}/hashes/${j}`,
          });
        }
      }
    }
  }
  if (isObject(c.swid)) otherIds++;
  if (Array.isArray(c.omniborId)) otherIds += c.omniborId.length;
  if (Array.isArray(c.swhid)) otherIds += c.swhid.length;
  let licences: SbomLicence[] | undefined;
  const ls = arr(c.licenses);
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (!isObject(l)) continue;
    const lp = `${pointer}/licenses/${i}`;
    // Same keys in the same order as before (expression|name|textOnly, acknowledgement when given, pointer).
    if (typeof l.expression === 'string') {
      const ack = str(l.acknowledgement);
      licences = add(licences, ack ? { expression: l.expression, acknowledgement: ack, pointer: `${lp}/expression` } : { expression: l.expression, pointer: `${lp}/expression` });
    } else if (isObject(l.license)) {
      const lic = l.license;
      const ack = str(lic.acknowledgement) ?? str(l.acknowledgement);
      if (typeof lic.id === 'string') licences = add(licences, ack ? { expression: lic.id, acknowledgement: ack, pointer: `${lp}/license/id` } : { expression: lic.id, pointer: `${lp}/license/id` });
      else if (typeof lic.name === 'string') licences = add(licences, ack ? { name: lic.name, acknowledgement: ack, pointer: `${lp}/license/name` } : { name: lic.name, pointer: `${lp}/license/name` });
      else licences = add(licences, ack ? { textOnly: true, acknowledgement: ack, pointer: `${lp}/license` } : { textOnly: true, pointer: `${lp}/license` });
    }
  }
  const supplier = isObject(c.supplier) ? str(c.supplier.name) : undefined;
  // Built field by field (same keys, same order as a literal with conditional spreads, without a temporary object
  // per optional field: this runs once per component).
  const out: Record<string, unknown> = { pointer };
  if (str(c['bom-ref'])) out.ref = c['bom-ref'];
  out.primary = primary;
  if (str(c.type)) out.type = c.type;
  if (str(c.name)) out.name = c.name;
  if (str(c.version)) out.version = c.version;
  if (str(c.group)) out.group = c.group;
  if (str(c.purl)) out.purl = c.purl;
  if (str(c.cpe)) out.cpe = c.cpe;
  out.otherIds = otherIds;
  out.creator = contactOf(creator);
  if (supplier) out.supplier = supplier;
  out.filename = filename ?? NONE;
  out.executable = executable ?? NONE;
  out.archive = archive ?? NONE;
  out.structured = structured ?? NONE;
  out.hashes = hashes ?? NONE;
  out.licences = licences ?? NONE;
  if (str(c.scope)) out.scope = c.scope;
  out.referencesBom = referencesBom;
  out.nested = arr(c.components).length;
  out.uris = uris ?? NONE;
  return out as unknown as SbomComponent;
}

function cycloneDx(det: DetectedSbom, maxComponents: number): SbomModel {
  const d = det.doc;
  const legacy = det.specVersion !== '1.6' && det.specVersion !== '1.7';
  const meta = isObject(d.metadata) ? d.metadata : {};
  const creatorAcc: ContactAcc = {};
  cdxEntityContact(meta.manufacturer, creatorAcc);
  // TR §3.2.9: "Author" is another name for the creator (see cdxComponent): metadata.authors[].email counts.
  cdxAuthorEmails(meta.authors, creatorAcc);
  if (legacy) {
    cdxEntityContact(meta.manufacture, creatorAcc);
    cdxEntityContact(meta.supplier, creatorAcc);
  }
  const creator = contactOf(creatorAcc);
  const authors: string[] = [];
  for (const a of arr(meta.authors)) if (isObject(a) && str(a.name ?? a.email)) authors.push(String(a.name ?? a.email));
  if (isObject(meta.manufacturer) && str(meta.manufacturer.name)) authors.push(meta.manufacturer.name as string);
  if (isObject(meta.manufacture) && str(meta.manufacture.name)) authors.push(meta.manufacture.name as string);
  const tools = meta.tools;
  const toolList = Array.isArray(tools) ? tools : isObject(tools) ? arr(tools.components) : [];
  for (const t of toolList) if (isObject(t) && str(t.name)) authors.push(`tool: ${t.name as string}`);

  const components: SbomComponent[] = [];
  if (isObject(meta.component)) components.push(cdxComponent(meta.component, '/metadata/component', true, legacy));
  // Iterative pre-order walk over components[] and nested components[], then metadata.component's nested ones: the
  // document order of their pointers (/components/… sorts before /metadata/…, a parent before its children, siblings
  // by index), produced directly instead of sorting pointer strings; each component is modelled as it is reached.
  const walk = (list: unknown[], pointer: string): void => {
    const stack: { list: unknown[]; pointer: string; i: number }[] = [{ list, pointer, i: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.list.length) {
        stack.pop();
        continue;
      }
      const i = top.i++;
      const c = top.list[i];
      if (!isObject(c)) continue;
      const p = `${top.pointer}/${i}`;
      if (components.length >= maxComponents) throw new RangeError(`more than ${maxComponents} components`);
      components.push(cdxComponent(c, p, false, legacy));
      if (Array.isArray(c.components)) stack.push({ list: c.components, pointer: `${p}/components`, i: 0 });
    }
  };
  if (Array.isArray(d.components)) walk(d.components, '/components');
  if (isObject(meta.component) && Array.isArray(meta.component.components)) walk(meta.component.components, '/metadata/component/components');

  const dependencies: SbomDependency[] = [];
  arr(d.dependencies).forEach((dep, i) => {
    if (isObject(dep) && typeof dep.ref === 'string') {
      dependencies.push({ ref: dep.ref, dependsOn: stringsOf(dep.dependsOn), pointer: `/dependencies/${i}` });
    }
  });
  const compositions: SbomComposition[] = [];
  arr(d.compositions).forEach((c, i) => {
    if (!isObject(c)) return;
    const refs = [...arr(c.assemblies), ...arr(c.dependencies)].filter((x): x is string => typeof x === 'string');
    compositions.push({ aggregate: typeof c.aggregate === 'string' ? c.aggregate : '', refs, pointer: `/compositions/${i}` });
  });
  const vulns = arr(d.vulnerabilities).length;
  return {
    format: 'CycloneDX',
    specVersion: det.specVersion,
    creator,
    creatorPointer: '/metadata/manufacturer',
    authors,
    ...(str(meta.timestamp) ? { timestamp: meta.timestamp as string } : {}),
    timestampPointer: '/metadata/timestamp',
    ...(str(d.serialNumber) ? { uri: d.serialNumber as string } : {}),
    ...(Number.isSafeInteger(d.version) ? { bomVersion: d.version as number } : {}),
    components,
    dependencies,
    completenessExpressible: true,
    compositions,
    duplicateRefs: duplicates(components),
    vulnerabilities: { count: vulns, pointer: '/vulnerabilities' },
  };
}

function duplicates(components: readonly SbomComponent[]): { ref: string; pointers: string[] }[] {
  // The first pointer per ref as it is; a list only for a ref seen again (no array per component).
  const byRef = new Map<string, string | string[]>();
  for (const c of components) if (c.ref !== undefined) {
    const l = byRef.get(c.ref);
    if (l === undefined) byRef.set(c.ref, c.pointer);
    else if (typeof l === 'string') byRef.set(c.ref, [l, c.pointer]);
    else l.push(c.pointer);
  }
  const out: { ref: string; pointers: string[] }[] = [];
  for (const [ref, pointers] of byRef) if (typeof pointers !== 'string') out.push({ ref, pointers });
  return out;
}

// ---- SPDX 2.x -------------------------------------------------------------------------------------------

/** "Organization: ACME (psirt@acme.example)" -> name + email. */
function spdx2Agent(v: unknown): { name?: string; email?: string } {
  const s = str(v);
  if (!s) return {};
  const m = /^(?:Person|Organization|Tool):\s*([^(]*?)\s*(?:\(([^)]*)\))?\s*$/.exec(s);
  if (!m) return {};
  const email = emailOf(m[2]);
  return { ...(m[1] ? { name: m[1] } : {}), ...(email ? { email } : {}) };
}

function spdx2(det: DetectedSbom, maxComponents: number): SbomModel {
  const d = det.doc;
  const ci = isObject(d.creationInfo) ? d.creationInfo : {};
  const creator = { emails: [] as string[], urls: [] as string[] };
  const authors: string[] = [];
  for (const c of arr(ci.creators)) {
    const a = spdx2Agent(c);
    if (typeof c === 'string' && !c.startsWith('Tool:') && a.email) creator.emails.push(a.email);
    if (a.name) authors.push(a.name);
  }
  const describes = new Set(arr(d.documentDescribes).filter((x): x is string => typeof x === 'string'));
  const rels = arr(d.relationships);
  for (const r of rels) {
    if (isObject(r) && r.relationshipType === 'DESCRIBES' && r.spdxElementId === d.SPDXID && typeof r.relatedSpdxElement === 'string') describes.add(r.relatedSpdxElement);
  }
  const packages = arr(d.packages);
  if (packages.length > maxComponents) throw new RangeError(`more than ${maxComponents} packages`);
  const components: SbomComponent[] = [];
  packages.forEach((p, i) => {
    if (!isObject(p)) return;
    const pointer = `/packages/${i}`;
    const hashes: SbomHash[] = [];
    arr(p.checksums).forEach((h, j) => {
      if (isObject(h) && typeof h.algorithm === 'string' && typeof h.checksumValue === 'string') {
        hashes.push({ alg: normaliseAlg(h.algorithm), content: h.checksumValue.toLowerCase(), where: 'distribution', pointer: `${pointer}/checksums/${j}` });
      }
    });
    const licences: SbomLicence[] = [];
    for (const [field, ack] of [['licenseConcluded', 'concluded'], ['licenseDeclared', 'declared']] as const) {
      const v = str(p[field]);
      if (v && v !== 'NOASSERTION' && v !== 'NONE') licences.push({ expression: v, acknowledgement: ack, pointer: `${pointer}/${field}` });
    }
    let purl: string | undefined;
    let cpe: string | undefined;
    let otherIds = 0;
    for (const r of arr(p.externalRefs)) {
      if (!isObject(r)) continue;
      if (r.referenceType === 'purl') purl ??= str(r.referenceLocator);
      else if (r.referenceType === 'cpe23Type' || r.referenceType === 'cpe22Type') cpe ??= str(r.referenceLocator);
      else if (r.referenceCategory === 'PERSISTENT-ID' || r.referenceCategory === 'PERSISTENT_ID') otherIds++;
    }
    const originator = spdx2Agent(p.originator);
    const supplierA = spdx2Agent(p.supplier);
    const creatorC = { emails: originator.email ? [originator.email] : [], urls: [] as string[] };
    const home = urlOf(p.homepage);
    if (home && creatorC.emails.length === 0 && originator.name) creatorC.urls.push(home);
    const id = str(p.SPDXID);
    const uris: SbomUri[] = [];
    // SPDX 2 downloadLocation: a URI, or NONE / NOASSERTION (no statement).
    const dl = str(p.downloadLocation);
    if (dl && dl !== 'NONE' && dl !== 'NOASSERTION') uris.push({ kind: 'deployable', value: dl, pointer: `${pointer}/downloadLocation` });
    components.push({
      pointer,
      ...(id ? { ref: id } : {}),
      primary: id !== undefined && describes.has(id),
      ...(str(p.primaryPackagePurpose) ? { type: (p.primaryPackagePurpose as string).toLowerCase() } : {}),
      ...(str(p.name) ? { name: p.name as string } : {}),
      ...(str(p.versionInfo) ? { version: p.versionInfo as string } : {}),
      ...(purl ? { purl } : {}),
      ...(cpe ? { cpe } : {}),
      otherIds,
      creator: creatorC,
      ...(supplierA.name ? { supplier: supplierA.name } : {}),
      filename: str(p.packageFileName) ? [p.packageFileName as string] : [],
      executable: [],
      archive: [],
      structured: [],
      hashes,
      licences,
      referencesBom: false,
      nested: 0,
      uris,
    });
  });
  components.sort((a, b) => Number(b.primary) - Number(a.primary));
  // Relationships -> dependencies (A DEPENDS_ON/CONTAINS B; B DEPENDENCY_OF/CONTAINED_BY A).
  const deps = new Map<string, { dependsOn: string[]; pointer: string }>();
  const add = (from: string, to: string, pointer: string) => {
    let e = deps.get(from);
    if (!e) deps.set(from, (e = { dependsOn: [], pointer }));
    if (to !== 'NONE' && to !== 'NOASSERTION') e.dependsOn.push(to);
  };
  rels.forEach((r, i) => {
    if (!isObject(r) || typeof r.spdxElementId !== 'string' || typeof r.relatedSpdxElement !== 'string') return;
    const pointer = `/relationships/${i}`;
    switch (r.relationshipType) {
      case 'DEPENDS_ON':
      case 'CONTAINS':
      case 'STATIC_LINK':
      case 'DYNAMIC_LINK':
        add(r.spdxElementId, r.relatedSpdxElement, pointer);
        break;
      case 'DEPENDENCY_OF':
      case 'CONTAINED_BY':
      case 'RUNTIME_DEPENDENCY_OF':
        add(r.relatedSpdxElement, r.spdxElementId, pointer);
        break;
    }
  });
  return {
    format: 'SPDX',
    specVersion: det.specVersion,
    creator,
    creatorPointer: '/creationInfo/creators',
    authors,
    ...(str(ci.created) ? { timestamp: ci.created as string } : {}),
    timestampPointer: '/creationInfo/created',
    ...(str(d.documentNamespace) ? { uri: d.documentNamespace as string } : {}),
    components,
    dependencies: [...deps].map(([ref, e]) => ({ ref, dependsOn: e.dependsOn, pointer: e.pointer })),
    completenessExpressible: false,
    compositions: [],
    duplicateRefs: duplicates(components),
    vulnerabilities: { count: 0, pointer: '/' },
  };
}

// ---- SPDX 3 JSON-LD -------------------------------------------------------------------------------------

/** The SPDX 3.0.1 individuals, by JSON-LD context term or IRI (spdx-context.jsonld maps the one to the other). */
const SPDX3_TERMS = 'https://spdx.org/rdf/3.0.1/terms/Core/';
export function isNoneElement(ref: string): boolean {
  return ref === 'NoneElement' || ref === `${SPDX3_TERMS}NoneElement`;
}
export function isNoAssertionElement(ref: string): boolean {
  return ref === 'NoAssertionElement' || ref === `${SPDX3_TERMS}NoAssertionElement`;
}

function spdx3(det: DetectedSbom, maxComponents: number): SbomModel {
  const graph = arr(det.doc['@graph']);
  if (graph.length > maxComponents * 4) throw new RangeError(`more than ${maxComponents * 4} SPDX elements`);
  const byId = new Map<string, { el: Record<string, unknown>; pointer: string }>();
  graph.forEach((el, i) => {
    if (!isObject(el)) return;
    const id = str(el.spdxId) ?? str(el['@id']);
    if (id) byId.set(id, { el, pointer: `/@graph/${i}` });
  });
  const agentContact = (ids: unknown): { contact: Contact; names: string[] } => {
    const emails: string[] = [];
    const urls: string[] = [];
    const names: string[] = [];
    for (const id of arr(ids)) {
      const a = typeof id === 'string' ? byId.get(id)?.el : isObject(id) ? id : undefined;
      if (!a) continue;
      if (str(a.name)) names.push(a.name as string);
      for (const x of arr(a.externalIdentifier)) {
        if (!isObject(x)) continue;
        if (x.externalIdentifierType === 'email' && emailOf(x.identifier)) emails.push(emailOf(x.identifier)!);
        else if ((x.externalIdentifierType === 'urlScheme' || x.externalIdentifierType === 'other') && urlOf(x.identifier)) urls.push(urlOf(x.identifier)!);
      }
    }
    return { contact: { emails, urls }, names };
  };
  // Creation info (shared blank node or inline).
  let ciEl: Record<string, unknown> | undefined;
  let ciPointer = '/@graph';
  for (const [, v] of byId) if (v.el.type === 'CreationInfo') {
    ciEl = v.el;
    ciPointer = v.pointer;
    break;
  }
  const rels: { el: Record<string, unknown>; pointer: string }[] = [];
  const pkgs: { el: Record<string, unknown>; pointer: string }[] = [];
  let sbomEl: Record<string, unknown> | undefined;
  let vulnCount = 0;
  let vulnPointer = '/@graph';
  graph.forEach((el, i) => {
    if (!isObject(el)) return;
    const t = el.type;
    const pointer = `/@graph/${i}`;
    if (t === 'Relationship' || t === 'LifecycleScopedRelationship') rels.push({ el, pointer });
    else if (t === 'software_Package') pkgs.push({ el, pointer });
    else if (t === 'software_Sbom' || (t === 'SpdxDocument' && !sbomEl)) sbomEl = el;
    else if (typeof t === 'string' && (t === 'security_Vulnerability' || t.startsWith('security_Vex') || t.startsWith('security_Cvss') || t.startsWith('security_Epss') || t.startsWith('security_Exploit'))) {
      if (vulnCount++ === 0) vulnPointer = pointer;
    }
    if (!ciEl && isObject(el.creationInfo)) {
      ciEl = el.creationInfo;
      ciPointer = `${pointer}/creationInfo`;
    }
  });
  if (pkgs.length > maxComponents) throw new RangeError(`more than ${maxComponents} packages`);
  const roots = new Set(arr(sbomEl?.rootElement).filter((x): x is string => typeof x === 'string'));
  const outgoing = new Map<string, { type: string; to: string[]; completeness?: string; pointer: string }[]>();
  for (const r of rels) {
    const from = str(r.el.from);
    if (!from) continue;
    const l = outgoing.get(from) ?? [];
    l.push({
      type: typeof r.el.relationshipType === 'string' ? r.el.relationshipType : '',
      to: arr(r.el.to).filter((x): x is string => typeof x === 'string'),
      ...(str(r.el.completeness) ? { completeness: r.el.completeness as string } : {}),
      pointer: r.pointer,
    });
    outgoing.set(from, l);
  }
  const licenceOf = (id: string): string | undefined => {
    const e = byId.get(id)?.el;
    return e ? (str(e.simplelicensing_licenseExpression) ?? str(e.spdxId)) : undefined;
  };
  const creationCreators = agentContact(ciEl?.createdBy);
  const components: SbomComponent[] = [];
  const dependencies: SbomDependency[] = [];
  const compositions: SbomComposition[] = [];
  const invalidRelationships: { pointer: string; message: string }[] = [];
  for (const { el, pointer } of pkgs) {
    const id = str(el.spdxId) ?? str(el['@id']);
    const out = id ? (outgoing.get(id) ?? []) : [];
    const hashes: SbomHash[] = [];
    const filename: string[] = [];
    const purposes = new Set<string>();
    let hasDistArtifact = false;
    const licences: SbomLicence[] = [];
    const dependsOn: string[] = [];
    let statesDependencies = false;
    for (const r of out) {
      if (r.type === 'hasDistributionArtifact') {
        for (const to of r.to) {
          const f = byId.get(to);
          if (!f) continue;
          hasDistArtifact = true;
          if (str(f.el.name)) filename.push(f.el.name as string);
          for (const p of arr(f.el.software_additionalPurpose)) if (typeof p === 'string') purposes.add(p);
          if (typeof f.el.software_primaryPurpose === 'string') purposes.add(f.el.software_primaryPurpose);
          arr(f.el.verifiedUsing).forEach((h, j) => {
            if (isObject(h) && typeof h.algorithm === 'string' && typeof h.hashValue === 'string') {
              hashes.push({ alg: normaliseAlg(h.algorithm), content: h.hashValue.toLowerCase(), where: 'distribution', pointer: `${f.pointer}/verifiedUsing/${j}` });
            }
          });
        }
      } else if (r.type === 'hasConcludedLicense' || r.type === 'hasDeclaredLicense') {
        for (const to of r.to) {
          const e = licenceOf(to);
          if (e) licences.push({ expression: e, acknowledgement: r.type === 'hasConcludedLicense' ? 'concluded' : 'declared', pointer: byId.get(to)?.pointer ?? r.pointer });
        }
      } else if (r.type === 'dependsOn' || r.type === 'contains') {
        statesDependencies = true;
        // SPDX 3.0.1 Core/Relationship: "To explicitly assert that no such relationships exist, the `to` property
        // shall contain the NoneElement individual and no other elements. A relationship that contains
        // NoneElement and additional elements in the `to` property is not valid. To explicitly assert that no
        // assertions are being made regarding the existence of such relationships, the `to` property shall
        // contain the NoAssertionElement individual."
        const none = r.to.some(isNoneElement);
        const noAssertion = r.to.some(isNoAssertionElement);
        if (none && r.to.length > 1) {
          invalidRelationships.push({ pointer: `${r.pointer}/to`, message: 'a relationship lists NoneElement together with other elements (not valid in the SPDX 3.0.1 model)' });
        }
        dependsOn.push(...r.to.filter((t) => !isNoneElement(t) && !isNoAssertionElement(t)));
        // Completeness: the relationship's own `completeness` (complete | incomplete | noAssertion) when given;
        // otherwise NoneElement alone is a statement of an empty, hence complete, set and NoAssertionElement one
        // of no assertion. NoAssertionElement means "unknown" whatever else is said.
        const aggregate = noAssertion ? 'noAssertion' : (r.completeness ?? (none && r.to.length === 1 ? 'complete' : undefined));
        if (aggregate && id) compositions.push({ aggregate, refs: [id], pointer: r.completeness ? `${r.pointer}/completeness` : `${r.pointer}/to` });
      }
    }
    arr(el.verifiedUsing).forEach((h, j) => {
      if (isObject(h) && typeof h.algorithm === 'string' && typeof h.hashValue === 'string') {
        hashes.push({ alg: normaliseAlg(h.algorithm), content: h.hashValue.toLowerCase(), where: 'component', pointer: `${pointer}/verifiedUsing/${j}` });
      }
    });
    let cpe: string | undefined;
    let otherIds = 0;
    for (const x of arr(el.externalIdentifier)) {
      if (!isObject(x)) continue;
      if ((x.externalIdentifierType === 'cpe23' || x.externalIdentifierType === 'cpe22') && str(x.identifier)) cpe ??= x.identifier as string;
      else if (x.externalIdentifierType === 'packageUrl' && str(x.identifier)) otherIds++;
      else otherIds++;
    }
    const uris: SbomUri[] = [];
    if (typeof el.software_downloadLocation === 'string') uris.push({ kind: 'deployable', value: el.software_downloadLocation, pointer: `${pointer}/software_downloadLocation` });
    const creator = agentContact(el.originatedBy);
    const supplier = agentContact(isObject(el.suppliedBy) || typeof el.suppliedBy === 'string' ? [el.suppliedBy] : el.suppliedBy);
    // A dependencies entry only where a dependsOn/contains relationship states them (licence or distribution
    // relationships say nothing about dependencies).
    if (id && statesDependencies) dependencies.push({ ref: id, dependsOn, pointer });
    components.push({
      pointer,
      ...(id ? { ref: id } : {}),
      primary: id !== undefined && roots.has(id),
      ...(str(el.software_primaryPurpose) ? { type: el.software_primaryPurpose as string } : {}),
      ...(str(el.name) ? { name: el.name as string } : {}),
      ...(str(el.software_packageVersion) ? { version: el.software_packageVersion as string } : {}),
      ...(str(el.software_packageUrl) ? { purl: el.software_packageUrl as string } : {}),
      ...(cpe ? { cpe } : {}),
      otherIds,
      creator: creator.contact,
      ...(supplier.names[0] ? { supplier: supplier.names[0] } : {}),
      filename,
      executable: hasDistArtifact ? [purposes.has('executable') ? 'executable' : 'non-executable'] : [],
      archive: hasDistArtifact ? [purposes.has('archive') ? 'archive' : 'no archive'] : [],
      structured: purposes.has('container') ? ['structured'] : purposes.has('firmware') ? ['unstructured'] : [],
      hashes,
      licences,
      referencesBom: false,
      nested: 0,
      uris,
    });
  }
  components.sort((a, b) => Number(b.primary) - Number(a.primary));
  return {
    format: 'SPDX',
    specVersion: det.specVersion,
    creator: creationCreators.contact,
    creatorPointer: `${ciPointer}/createdBy`,
    authors: creationCreators.names,
    ...(str(ciEl?.created) ? { timestamp: ciEl!.created as string } : {}),
    timestampPointer: `${ciPointer}/created`,
    ...(str(sbomEl?.spdxId) ? { uri: sbomEl!.spdxId as string } : {}),
    components,
    dependencies,
    completenessExpressible: true,
    compositions,
    duplicateRefs: [],
    vulnerabilities: { count: vulnCount, pointer: vulnPointer },
    invalidRelationships,
  };
}

/** Build the model. Throws RangeError past `maxComponents`. */
export function buildModel(det: DetectedSbom, maxComponents: number): SbomModel {
  if (det.format === 'CycloneDX') return cycloneDx(det, maxComponents);
  if (det.specVersion.startsWith('2.')) return spdx2(det, maxComponents);
  return spdx3(det, maxComponents);
}
