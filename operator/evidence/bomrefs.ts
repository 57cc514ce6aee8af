/**
 * Referenced BOMs (issue 13): the external BOM references of the release's CycloneDX SBOMs
 * (externalReferences[type=bom], ../vuln/bomref.ts) are read so their components are assessed for
 * vulnerabilities like those of the main SBOM:
 *
 *  - an https:// location is fetched through the SSRF-guarded HTTPS fetcher (same limits as spec.sboms[]),
 *    analysed, and its own references followed (at most MAX_DEPTH levels, MAX_FETCHED documents);
 *  - a BOM-Link (urn:cdx:serial/version) must name one of the release's SBOMs (by serial number and
 *    version) or a fetched one;
 *  - anything else (http:, file:, an unreachable URL, an unknown BOM-Link, too many references) becomes an
 *    unusable entry whose message names the reference, so the vulnerability checks end in Error.
 *
 * The results go to `evidence.referencedSboms`, read only by the vulnerability matching (the SBOM quality
 * checks judge the documents the release declares).
 */
import { errorMessage, reasonOf } from '../errors.ts';
import type { Reason } from '../errors.ts';
import type { SbomAnalysis } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { bomIdentity, externalBomRefs } from '../vuln/bomref.ts';
import type { FetchOptions, FetchResult } from './https.ts';

export const MAX_DEPTH = 2;
export const MAX_FETCHED = 16;

export interface ReadSbom {
  readonly artifact: string;
  readonly source: string;
  readonly bytes: Uint8Array;
}

export interface BomRefOptions {
  readonly fetch: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  readonly fetchOptions: FetchOptions;
  readonly analyse: (bytes: Uint8Array) => Promise<SbomAnalysis>;
}

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

const mentionsBomRef = (bytes: Uint8Array): boolean => /"type"\s*:\s*"bom"/.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));

export async function collectReferencedBoms(mains: readonly ReadSbom[], opts: BomRefOptions): Promise<SbomEvidence[]> {
  const out: SbomEvidence[] = [];
  const known = new Set<string>(); // `serial/version` of every BOM read
  const fetched = new Set<string>();
  const pendingLinks: { artifact: string; source: string; url: string; serialNumber?: string; version?: number }[] = [];
  const unusable = (artifact: string, source: string, reason: Reason, message: string): SbomEvidence => ({
    artifact,
    source,
    analysis: { ok: false, unavailable: true, reason, message },
  });
  let level: { doc: unknown; artifact: string; source: string }[] = [];
  // Most SBOMs reference no other BOM: then nothing is parsed a second time.
  if (!mains.some((m) => mentionsBomRef(m.bytes))) return out;
  for (const m of mains) {
    const doc = parse(m.bytes);
    const id = bomIdentity(doc);
    if (id) known.add(`${id.serialNumber}/${id.version}`);
    level.push({ doc, artifact: m.artifact, source: m.source });
  }
  for (let depth = 1; depth <= MAX_DEPTH + 1 && level.length > 0; depth++) {
    const next: typeof level = [];
    for (const { doc, artifact, source } of level) {
      const { refs, truncated } = externalBomRefs(doc);
      if (truncated) out.push(unusable(artifact, `${source}: externalReferences`, 'EvidenceUnavailable', `${source}: more external BOM references than cra-gate follows`));
      for (const r of refs) {
        const where = `${r.url} (external BOM reference at ${source} ${r.pointer})`;
        if (r.kind === 'bom-link') {
          pendingLinks.push({ artifact, source: where, url: r.url, ...(r.serialNumber ? { serialNumber: r.serialNumber, version: r.version! } : {}) });
          continue;
        }
        if (fetched.has(r.url)) continue;
        if (!/^https:\/\//i.test(r.url.trim())) {
          out.push(unusable(artifact, where, 'EvidenceUnavailable', `${where}: only https:// BOM references can be fetched`));
          continue;
        }
        if (depth > MAX_DEPTH || fetched.size >= MAX_FETCHED) {
          out.push(unusable(artifact, where, 'EvidenceUnavailable', `${where}: not followed (at most ${MAX_FETCHED} referenced BOMs, ${MAX_DEPTH} levels deep)`));
          continue;
        }
        fetched.add(r.url);
        let bytes: Uint8Array;
        try {
          bytes = (await opts.fetch(r.url.trim(), opts.fetchOptions)).bytes;
        } catch (err) {
          const reason = reasonOf(err);
          out.push(unusable(artifact, where, reason === 'Internal' ? 'EvidenceUnavailable' : reason, `${where}: ${errorMessage(err, 200)}`));
          continue;
        }
        const analysis = await opts.analyse(bytes);
        out.push({ artifact, source: where, analysis: analysis.ok ? analysis : { ...analysis, message: `${where}: ${analysis.message}` } });
        const d = parse(bytes);
        const id = bomIdentity(d);
        if (id) known.add(`${id.serialNumber}/${id.version}`);
        if (analysis.ok) next.push({ doc: d, artifact, source: r.url });
      }
    }
    level = next;
  }
  for (const l of pendingLinks) {
    if (l.serialNumber && known.has(`${l.serialNumber}/${l.version}`)) continue;
    out.push(
      unusable(
        l.artifact,
        l.source,
        'EvidenceUnavailable',
        l.serialNumber
          ? `${l.source}: the BOM-Link names BOM ${l.serialNumber} version ${l.version}, which is not among the release's SBOMs (declare it in spec.sboms[])`
          : `${l.source}: not a valid BOM-Link (urn:cdx:<serial-number>/<version>)`,
      ),
    );
  }
  return out;
}
