/**
 * CycloneDX XML (issue #13 item 8): detection, XSD validation and mapping to the JSON shape the model reads.
 *
 *  - Validation: the official XSDs (bom-1.2 … bom-1.7 and the spdx.xsd they import) as shipped by the CycloneDX
 *    maintainers in `@cyclonedx/cyclonedx-library` (`res/schema/*.SNAPSHOT.xsd`, the copies of
 *    CycloneDX/specification `schema/` that the library validates with; the JSON schemas come from the same
 *    place, see ./schemas/README.md), checked by libxml2's xmllint compiled to WebAssembly (`xmllint-wasm`): no
 *    native addon, no network, an in-memory file system. Asynchronous. Provenance: bom-1.2 … bom-1.6 in
 *    @cyclonedx/cyclonedx-library 10.3.0 are byte-identical to CycloneDX/specification commit e02a34ae
 *    `schema/bom-<v>.xsd` except the one `xs:import` of the SPDX licence list, whose schemaLocation is the local
 *    `spdx.SNAPSHOT.xsd` instead of the URL (so nothing is fetched); that spdx.xsd is licence list 3.29.0 (the
 *    specification's is 3.28.0). bom-1.7 is the library's 1.7.2 (the specification's 1.7.1).
 *  - Parsing: fast-xml-parser into plain objects, then mapped onto the CycloneDX JSON structure (same field
 *    names), so ./model.ts builds the same format-neutral model as for JSON; no DTDs or entities (a DOCTYPE is
 *    refused before parsing, so no entity expansion).
 *  - Pointers: the model keeps JSON pointers into that mapped structure; `toXPath` turns them into XPath into
 *    the XML document for findings (`/components/2/hashes/0` → `/bom/components/*[3]/hashes/*[1]`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as FastXmlParser from 'fast-xml-parser';
import type { XMLParser } from 'fast-xml-parser';
import type { SchemaProblem, SchemaResult } from './schema.ts';
import { unescapePointerSegment } from '../util/json-pointer.ts';

const require = createRequire(import.meta.url);

export const CDX_XML_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;
const NS = /^http:\/\/cyclonedx\.org\/schema\/bom\/(\d+\.\d+)$/;
const MAX_PROBLEMS = 50;

/** The CycloneDX version of an XML document's root namespace, e.g. `1.6`; undefined when not CycloneDX. */
export function cycloneDxXmlVersion(head: string): string | undefined {
  const m = /<(?:[A-Za-z_][\w.-]*:)?bom\b[^>]*?\bxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*["']([^"']+)["']/.exec(head);
  const ns = m ? NS.exec(m[1]!) : null;
  return ns?.[1];
}

/** Elements that repeat in CycloneDX XML and become arrays in the JSON structure (by parent/child path end). */
const ARRAY_PATHS = [
  'components.component',
  'services.service',
  'dependencies.dependency',
  'dependency.dependency',
  'hashes.hash',
  'licenses.license',
  'licenses.expression',
  'externalReferences.reference',
  'properties.property',
  'authors.author',
  'manufacturer.url',
  'manufacturer.contact',
  'manufacture.url',
  'manufacture.contact',
  'supplier.url',
  'supplier.contact',
  'tools.tool',
  'compositions.composition',
  'assemblies.assembly',
  'vulnerabilities.vulnerability',
  'omniborId',
  'swhid',
];

let xmlParser: XMLParser | undefined;
/** The XML parser, created on first use: a JSON SBOM never loads fast-xml-parser (CLI start-up). */
function parser(): XMLParser {
  if (xmlParser) return xmlParser;
  // Its CommonJS build, loaded synchronously on demand (parseCycloneDxXml is synchronous).
  const { XMLParser: Parser } = require('fast-xml-parser') as typeof FastXmlParser;
  xmlParser = new Parser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (_name, jpath) => ARRAY_PATHS.some((p) => String(jpath).endsWith(`.${p}`) || String(jpath) === p),
  });
  return xmlParser;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
/** Text content of an element (`#text` when it has attributes). */
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : isObj(v) && typeof v['#text'] === 'string' ? v['#text'] : undefined);

function entity(e: unknown): Obj | undefined {
  if (!isObj(e)) return undefined;
  const out: Obj = {};
  if (text(e.name)) out.name = text(e.name);
  const urls = arr(e.url).map(text).filter((x): x is string => !!x);
  if (urls.length) out.url = urls;
  const contacts = arr(e.contact).filter(isObj).map((c) => ({ ...(text(c.name) ? { name: text(c.name) } : {}), ...(text(c.email) ? { email: text(c.email) } : {}) }));
  if (contacts.length) out.contact = contacts;
  return out;
}

function hashes(h: unknown): Obj[] {
  return arr(isObj(h) ? h.hash : undefined).map((x) => ({ alg: isObj(x) ? x['@_alg'] : undefined, content: text(x) }));
}

function licences(l: unknown): Obj[] {
  if (!isObj(l)) return [];
  const out: Obj[] = [];
  for (const lic of arr(l.license)) {
    if (!isObj(lic)) continue;
    const inner: Obj = {};
    if (text(lic.id)) inner.id = text(lic.id);
    else if (text(lic.name)) inner.name = text(lic.name);
    if (typeof lic['@_acknowledgement'] === 'string') inner.acknowledgement = lic['@_acknowledgement'];
    out.push({ license: inner });
  }
  for (const ex of arr(l.expression)) {
    const e = text(ex);
    if (e === undefined) continue;
    out.push({ expression: e, ...(isObj(ex) && typeof ex['@_acknowledgement'] === 'string' ? { acknowledgement: ex['@_acknowledgement'] } : {}) });
  }
  return out;
}

function component(c: unknown, depth: number): Obj | undefined {
  if (!isObj(c) || depth > 64) return undefined;
  const out: Obj = {};
  for (const [attr, key] of [['@_type', 'type'], ['@_bom-ref', 'bom-ref']] as const) if (typeof c[attr] === 'string') out[key] = c[attr];
  for (const key of ['name', 'version', 'group', 'purl', 'cpe', 'scope', 'description']) if (text(c[key]) !== undefined) out[key] = text(c[key]);
  const m = entity(c.manufacturer);
  if (m) out.manufacturer = m;
  const s = entity(c.supplier);
  if (s) out.supplier = s;
  const authors = arr(isObj(c.authors) ? c.authors.author : undefined).filter(isObj).map((a) => ({ ...(text(a.name) ? { name: text(a.name) } : {}), ...(text(a.email) ? { email: text(a.email) } : {}) }));
  if (authors.length) out.authors = authors;
  if (c.hashes !== undefined) out.hashes = hashes(c.hashes);
  if (c.licenses !== undefined) out.licenses = licences(c.licenses);
  if (isObj(c.swid)) out.swid = { tagId: c.swid['@_tagId'] };
  const omni = arr(c.omniborId).map(text).filter(Boolean);
  if (omni.length) out.omniborId = omni;
  const swhid = arr(c.swhid).map(text).filter(Boolean);
  if (swhid.length) out.swhid = swhid;
  if (isObj(c.externalReferences)) {
    out.externalReferences = arr(c.externalReferences.reference).filter(isObj).map((r) => ({
      type: r['@_type'],
      url: text(r.url),
      ...(r.hashes !== undefined ? { hashes: hashes(r.hashes) } : {}),
    }));
  }
  if (isObj(c.properties)) out.properties = arr(c.properties.property).map((p) => ({ name: isObj(p) ? p['@_name'] : undefined, value: text(p) ?? '' }));
  if (isObj(c.components)) out.components = arr(c.components.component).map((x) => component(x, depth + 1) ?? {});
  return out;
}

/** Map a parsed CycloneDX XML `<bom>` onto the CycloneDX JSON structure (the fields ./model.ts reads). */
export function cdxXmlToJson(bom: Obj, specVersion: string): Obj {
  const doc: Obj = { bomFormat: 'CycloneDX', specVersion };
  if (typeof bom['@_serialNumber'] === 'string') doc.serialNumber = bom['@_serialNumber'];
  if (typeof bom['@_version'] === 'string') doc.version = Number(bom['@_version']);
  if (isObj(bom.metadata)) {
    const md = bom.metadata;
    const meta: Obj = {};
    if (text(md.timestamp)) meta.timestamp = text(md.timestamp);
    for (const key of ['manufacturer', 'manufacture', 'supplier']) {
      const e = entity(md[key]);
      if (e) meta[key] = e;
    }
    const authors = arr(isObj(md.authors) ? md.authors.author : undefined).filter(isObj).map((a) => ({ ...(text(a.name) ? { name: text(a.name) } : {}), ...(text(a.email) ? { email: text(a.email) } : {}) }));
    if (authors.length) meta.authors = authors;
    if (isObj(md.tools)) {
      // 1.4: <tools><tool><name/>…; 1.5+: <tools><components><component/>…
      const legacy = arr(md.tools.tool).filter(isObj).map((t) => ({ name: text(t.name) }));
      const comps = isObj(md.tools.components) ? arr(md.tools.components.component).map((x) => component(x, 1) ?? {}) : [];
      meta.tools = legacy.length ? legacy : { components: comps };
    }
    const primary = component(md.component, 0);
    if (primary) meta.component = primary;
    doc.metadata = meta;
  }
  if (isObj(bom.components)) doc.components = arr(bom.components.component).map((x) => component(x, 0) ?? {});
  if (isObj(bom.dependencies)) {
    doc.dependencies = arr(bom.dependencies.dependency)
      .filter(isObj)
      .map((d) => ({ ref: d['@_ref'], dependsOn: arr(d.dependency).filter(isObj).map((x) => x['@_ref']) }));
  }
  if (isObj(bom.compositions)) {
    doc.compositions = arr(bom.compositions.composition)
      .filter(isObj)
      .map((c) => ({
        aggregate: text(c.aggregate),
        ...(isObj(c.assemblies) ? { assemblies: arr(c.assemblies.assembly).filter(isObj).map((a) => a['@_ref']) } : {}),
        ...(isObj(c.dependencies) ? { dependencies: arr(c.dependencies.dependency).filter(isObj).map((a) => a['@_ref']) } : {}),
      }));
  }
  if (isObj(bom.vulnerabilities)) doc.vulnerabilities = arr(bom.vulnerabilities.vulnerability);
  return doc;
}

/** Parse CycloneDX XML text into the JSON structure. Throws Error with a message for bad input. */
export function parseCycloneDxXml(xmlText: string, specVersion: string): Obj {
  // CycloneDX never needs a DTD; refusing it rules out entity expansion attacks before any parsing.
  if (/<!DOCTYPE/i.test(xmlText)) throw new Error('XML with a DOCTYPE (DTD, entities) is refused');
  const v = parser().parse(xmlText) as unknown;
  const bom = isObj(v) ? v.bom : undefined;
  if (!isObj(bom)) throw new Error('no <bom> root element');
  return cdxXmlToJson(bom, specVersion);
}

/**
 * Whether element nesting exceeds `limit` (outside CDATA, comments and processing instructions). O(n); a guard
 * against stack exhaustion in the parser, checked before parsing.
 */
export function xmlDepthExceeds(xmlText: string, limit: number): boolean {
  let depth = 0;
  let i = 0;
  const n = xmlText.length;
  while (i < n) {
    const lt = xmlText.indexOf('<', i);
    if (lt < 0) break;
    if (xmlText.startsWith('<![CDATA[', lt)) {
      const e = xmlText.indexOf(']]>', lt + 9);
      i = e < 0 ? n : e + 3;
    } else if (xmlText.startsWith('<!--', lt)) {
      const e = xmlText.indexOf('-->', lt + 4);
      i = e < 0 ? n : e + 3;
    } else if (xmlText.startsWith('<?', lt) || xmlText.startsWith('<!', lt)) {
      const e = xmlText.indexOf('>', lt + 2);
      i = e < 0 ? n : e + 1;
    } else if (xmlText.startsWith('</', lt)) {
      depth--;
      const e = xmlText.indexOf('>', lt + 2);
      i = e < 0 ? n : e + 1;
    } else {
      const e = xmlText.indexOf('>', lt + 1);
      if (e < 0) break;
      if (xmlText.charCodeAt(e - 1) !== 0x2f && ++depth > limit) return true;
      i = e + 1;
    }
  }
  return false;
}

// ---- XSD validation ---------------------------------------------------------------------------------------

let schemaDir: string | undefined;
function xsdDir(): string {
  schemaDir ??= join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  return schemaDir;
}
const xsdCache = new Map<string, string>();
function xsd(file: string): string {
  let s = xsdCache.get(file);
  if (s === undefined) xsdCache.set(file, (s = readFileSync(join(xsdDir(), file), 'utf8')));
  return s;
}

/** Validate CycloneDX XML against the official XSD of its version. Never throws for document content. */
export async function validateCycloneDxXml(xmlText: string, specVersion: string): Promise<SchemaResult> {
  const schemaName = `CycloneDX ${specVersion} XML (bom-${specVersion}.xsd)`;
  if (!(CDX_XML_VERSIONS as readonly string[]).includes(specVersion)) {
    return { schema: 'official', schemaName, valid: false, errorCount: 1, problems: [{ pointer: '/bom/@xmlns', message: `no CycloneDX XSD for version ${specVersion}` }] };
  }
  const bytes = Buffer.byteLength(xmlText);
  // Memory in 64 KiB wasm pages: room for the document and libxml2's tree (≈ 8× the text), at most 2 GiB.
  const pages = Math.min(32768, 512 + Math.ceil((bytes * 8) / 65536));
  try {
    const { validateXML } = await import('xmllint-wasm');
    const r = await validateXML({
      xml: [{ fileName: 'bom.xml', contents: xmlText }],
      schema: [{ fileName: `bom-${specVersion}.SNAPSHOT.xsd`, contents: xsd(`bom-${specVersion}.SNAPSHOT.xsd`) }],
      preload: [{ fileName: 'spdx.SNAPSHOT.xsd', contents: xsd('spdx.SNAPSHOT.xsd') }],
      initialMemoryPages: Math.min(pages, 4096),
      maxMemoryPages: pages,
    });
    const problems: SchemaProblem[] = r.errors.slice(0, MAX_PROBLEMS).map((e) => ({
      pointer: e.loc?.lineNumber ? `/bom (line ${e.loc.lineNumber})` : '/bom',
      message: (e.message || e.rawMessage)
        .replace(/^bom\.xml:\d+:\s*/, '')
        .replace(/^(?:element \S+: )?Schemas validity error : /, '')
        .replaceAll(`{http://cyclonedx.org/schema/bom/${specVersion}}`, '')
        .slice(0, 300),
    }));
    return { schema: 'official', schemaName, valid: r.valid, errorCount: r.valid ? 0 : Math.max(r.errors.length, 1), problems: r.valid ? [] : problems.length ? problems : [{ pointer: '/bom', message: 'invalid against the XSD' }] };
  } catch (err) {
    // The validator itself failed (out of memory, …): never a pass.
    return { schema: 'official', schemaName, valid: false, errorCount: 1, problems: [{ pointer: '/bom', message: `XSD validation could not run: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}` }] };
  }
}

// ---- pointers -----------------------------------------------------------------------------------------------

/** Attributes in CycloneDX XML whose JSON counterparts are plain properties. */
const ATTRIBUTES = new Set(['bom-ref', 'type', 'ref', 'alg', 'serialNumber', 'acknowledgement', 'name']);

/**
 * A JSON pointer into the mapped structure → an XPath into the XML document. Array elements become `*[n]`
 * (1-based) under their container; `dependsOn` entries are nested `<dependency>` elements; the document-level
 * `specVersion` is the namespace.
 */
export function toXPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '/bom';
  if (pointer === '/specVersion') return '/bom/namespace::*[1]';
  const segs = pointer.split('/').slice(1).map(unescapePointerSegment);
  let out = '/bom';
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const next = segs[i + 1];
    if (/^\d+$/.test(s)) {
      out += `/*[${Number(s) + 1}]`;
      continue;
    }
    if (s === 'dependsOn') continue; // <dependency ref><dependency ref/></dependency>
    const isLast = next === undefined;
    if (i === 0 && isLast && (s === 'version' || s === 'serialNumber')) {
      out += `/@${s}`;
      continue;
    }
    // `name` is an attribute only on <property>; elsewhere an element.
    const attr = isLast && ATTRIBUTES.has(s) && (s !== 'name' || /\/properties\/\*\[\d+\]$/.test(out));
    out += attr ? `/@${s}` : `/${s}`;
  }
  return out;
}
