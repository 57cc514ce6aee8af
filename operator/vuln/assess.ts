/**
 * Pure matching: every SBOM component with a package URL against the OSV index, each hit annotated with
 * the KEV entry of any of its ids and the VEX statement that speaks for it.
 */
import type { SbomEvidence } from '../sbom/evidence.ts';
import type { KevCatalogue, KevEntry } from './kev.ts';
import type { OsvIndex } from './match.ts';
import type { VulnMatch } from './evidence.ts';
import { vexProductOf, vexVerdict } from '../vex/apply.ts';
import type { VexSet } from '../vex/apply.ts';

export interface AssessInput {
  readonly sboms: readonly SbomEvidence[];
  readonly index: OsvIndex;
  readonly kev: readonly KevCatalogue[];
  readonly vex: VexSet;
}

export interface AssessOutput {
  readonly matches: VulnMatch[];
  readonly componentsScanned: number;
  readonly componentsWithoutPurl: number;
  readonly sbomProblems: string[];
}

export function kevEntryFor(ids: readonly string[], kev: readonly KevCatalogue[]): KevEntry | undefined {
  for (const id of ids) {
    const up = id.toUpperCase();
    for (const k of kev) {
      const e = k.entries.get(up);
      if (e) return e;
    }
  }
  return undefined;
}

export function assessVulnerabilities(input: AssessInput): AssessOutput {
  const matches: VulnMatch[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  let withoutPurl = 0;
  const sbomProblems: string[] = [];
  for (const s of input.sboms) {
    const a = s.analysis;
    if (!a.ok) {
      sbomProblems.push(`${s.source}: ${a.message}`);
      continue;
    }
    const product = vexProductOf(a.model);
    for (const c of a.model.components) {
      if (!c.purl) {
        withoutPurl++;
        continue;
      }
      scanned++;
      for (const hit of input.index.match(c.purl, c.version)) {
        const key = `${hit.record.id}\u0000${c.purl}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const ids = [hit.record.id, ...hit.record.aliases];
        const kev = kevEntryFor(ids, input.kev);
        const vex = vexVerdict(input.vex, ids, { purl: c.purl, ...(c.ref ? { ref: c.ref } : {}), ...(c.cpe ? { cpe: c.cpe } : {}) }, product);
        matches.push({
          advisory: hit.record.id,
          aliases: hit.record.aliases,
          ...(hit.record.summary ? { summary: hit.record.summary } : {}),
          purl: c.purl,
          pointer: c.pointer,
          artifact: s.artifact,
          ...(hit.uncertain ? { uncertain: hit.uncertain } : {}),
          notes: hit.notes,
          ...(kev
            ? { kev: { cveID: kev.cveID, dateAdded: kev.dateAdded, ...(kev.knownRansomwareCampaignUse ? { knownRansomwareCampaignUse: kev.knownRansomwareCampaignUse } : {}) } }
            : {}),
          ...(vex ? { vex } : {}),
        });
      }
    }
  }
  return { matches, componentsScanned: scanned, componentsWithoutPurl: withoutPurl, sbomProblems };
}
