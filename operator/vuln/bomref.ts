/**
 * External BOM references of a CycloneDX JSON SBOM: `externalReferences[]` of type `bom` on the metadata
 * component and on every (nested) component. Their `url` is either a location (https://…) or a BOM-Link
 * (`urn:cdx:<serial-number-uuid>/<version>[#<bom-ref>]`, CycloneDX 1.5+) that names another BOM by serial
 * number and version. Pure; bounded (at most MAX_REFS references are returned, `truncated` says so).
 *
 * The collector (../evidence/bomrefs.ts) fetches the locations and resolves the BOM-Links against the
 * release's SBOMs; components of referenced BOMs are assessed like those of the main SBOM, and a reference
 * that cannot be read makes the vulnerability checks end in Error naming it — never ignored.
 */
import { isObject } from '../util/json.ts';

export interface ExternalBomRef {
  /** The reference as written. */
  readonly url: string;
  /** JSON pointer of the reference in its SBOM. */
  readonly pointer: string;
  readonly kind: 'location' | 'bom-link';
  /** BOM-Link: the referenced BOM's serial number (`urn:uuid:…`) and version. */
  readonly serialNumber?: string;
  readonly version?: number;
}

export const MAX_REFS = 64;
const MAX_DEPTH = 32;


const BOM_LINK = /^urn:cdx:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([1-9]\d*)(?:#.*)?$/i;

/** Parse a BOM-Link (`urn:cdx:uuid/version#ref`); undefined when it is not one. */
export function parseBomLink(url: string): { serialNumber: string; version: number } | undefined {
  const m = BOM_LINK.exec(url.trim());
  return m ? { serialNumber: `urn:uuid:${m[1]!.toLowerCase()}`, version: Number(m[2]) } : undefined;
}

/** External BOM references of a parsed CycloneDX document (non-CycloneDX input: none). */
export function externalBomRefs(doc: unknown): { refs: ExternalBomRef[]; truncated: boolean } {
  const refs: ExternalBomRef[] = [];
  let truncated = false;
  if (!isObject(doc) || doc.bomFormat !== 'CycloneDX') return { refs, truncated };
  const visit = (c: unknown, pointer: string, depth: number) => {
    if (!isObject(c) || depth > MAX_DEPTH) return;
    if (Array.isArray(c.externalReferences)) {
      c.externalReferences.forEach((r, i) => {
        if (!isObject(r) || r.type !== 'bom' || typeof r.url !== 'string') return;
        if (refs.length >= MAX_REFS) {
          truncated = true;
          return;
        }
        const link = parseBomLink(r.url);
        refs.push({
          url: r.url,
          pointer: `${pointer}/externalReferences/${i}`,
          kind: link || r.url.trim().toLowerCase().startsWith('urn:cdx:') ? 'bom-link' : 'location',
          ...(link ? link : {}),
        });
      });
    }
    if (Array.isArray(c.components)) c.components.forEach((x, i) => visit(x, `${pointer}/components/${i}`, depth + 1));
  };
  if (isObject(doc.metadata)) visit(doc.metadata.component, '/metadata/component', 0);
  if (Array.isArray(doc.components)) doc.components.forEach((x, i) => visit(x, `/components/${i}`, 0));
  return { refs, truncated };
}

/** The serial number and version of a CycloneDX document, to resolve BOM-Links against. */
export function bomIdentity(doc: unknown): { serialNumber: string; version: number } | undefined {
  if (!isObject(doc) || typeof doc.serialNumber !== 'string') return undefined;
  return { serialNumber: doc.serialNumber.trim().toLowerCase(), version: typeof doc.version === 'number' ? doc.version : 1 };
}
