/**
 * Pure matching: every SBOM component against the OSV index (by package URL, ecosystem and distribution
 * release) and the NVD index (by CPE), each hit annotated with the KEV entry of any of its ids and the VEX
 * statement that speaks for it.
 *
 * Coverage is part of the result: a component is ASSESSED when at least one feed can decide on it (a purl in
 * an OSV ecosystem the feeds cover and cra-gate can order, with the release for distribution packages; or a
 * CPE naming vendor, product and version with an NVD feed present). Every other component is listed as
 * unassessed with the reason — never silently skipped. The primary component (the product itself) is matched
 * when it can be, but not counted: public feeds do not describe a product before its release.
 *
 * A component whose purl version, CPE version and version field disagree is a finding (versionConflicts);
 * it is matched with every version it states, so neither hides a vulnerability of the other.
 */
import type { SbomComponent } from '../sbom/model.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { literal, tryParseCpe } from './cpe.ts';
import type { KevCatalogue, KevEntry } from './kev.ts';
import type { OsvIndex } from './match.ts';
import type { NvdIndex } from './nvd.ts';
import { packageIdFromPurl } from './purl.ts';
import type { UnassessedComponent, VersionConflict, VulnMatch } from './evidence.ts';
import { vexProductOf, vexVerdict } from '../vex/apply.ts';
import type { VexSet } from '../vex/apply.ts';

export interface AssessInput {
  readonly sboms: readonly SbomEvidence[];
  readonly index: OsvIndex;
  /** CPE matching; absent when the policy has no NVD feed (CPE-only components are then unassessed). */
  readonly nvd?: NvdIndex;
  readonly kev: readonly KevCatalogue[];
  readonly vex: VexSet;
}

export interface AssessOutput {
  readonly matches: VulnMatch[];
  /** Non-primary components at least one feed could assess. */
  readonly componentsAssessed: number;
  /** Non-primary components of the usable SBOMs. */
  readonly componentsTotal: number;
  readonly unassessed: UnassessedComponent[];
  readonly versionConflicts: VersionConflict[];
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

/** Versions compare equal when they differ only by a leading "v" or surrounding space. */
function sameVersion(a: string, b: string): boolean {
  const n = (x: string) => x.trim().replace(/^v(?=\d)/i, '').toLowerCase();
  return n(a) === n(b);
}

function label(c: SbomComponent): string {
  return c.purl ?? c.cpe ?? (c.name ? `${c.group ? `${c.group}/` : ''}${c.name}${c.version ? `@${c.version}` : ''}` : c.ref ?? c.pointer);
}

interface Hit {
  advisory: string;
  aliases: readonly string[];
  summary?: string;
  uncertain?: string;
  notes: readonly string[];
  source: 'osv' | 'nvd';
}

/** All hits for one component over every version it states; undefined `unassessed` means some feed assessed it. */
function componentHits(c: SbomComponent, input: AssessInput): { hits: Hit[]; unassessed?: string } {
  const reasons: string[] = [];
  let assessed = false;
  const hits = new Map<string, Hit>();
  const add = (h: Hit) => {
    const prev = hits.get(h.advisory);
    if (!prev || (prev.uncertain && !h.uncertain)) hits.set(h.advisory, h);
  };
  const considered = new Set<string>();
  const purlId = c.purl ? packageIdFromPurl(c.purl) : undefined;
  const versions = [...new Set([purlId?.version, c.version].filter((v): v is string => typeof v === 'string' && v.trim() !== ''))];
  if (c.purl) {
    for (const v of versions.length > 0 ? versions : [undefined]) {
      const a = input.index.assess(c.purl, v);
      a.considered.forEach((x) => considered.add(x));
      if (a.unassessed) reasons.push(`purl: ${a.unassessed}`);
      else assessed = true;
      for (const h of a.hits) {
        // `upstream` ids (a distribution record's CVE) count like aliases: KEV, VEX and waivers see them.
        const aliases = h.record.upstream.length > 0 ? [...new Set([...h.record.aliases, ...h.record.upstream])] : h.record.aliases;
        add({ advisory: h.record.id, aliases, ...(h.record.summary ? { summary: h.record.summary } : {}), ...(h.uncertain ? { uncertain: h.uncertain } : {}), notes: h.notes, source: 'osv' });
      }
    }
  } else reasons.push('no purl');
  if (c.cpe) {
    if (!input.nvd) reasons.push('CPE: the policy has no NVD feed (spec.vulnerabilityFeeds[].nvd)');
    else {
      const cpeVersions = literal(tryParseCpe(c.cpe)?.version ?? { kind: 'ANY' }) !== undefined ? [undefined] : versions.length > 0 ? versions : [undefined];
      for (const v of cpeVersions) {
        const a = input.nvd.assess(c.cpe, v);
        if (a.unassessed) reasons.push(`CPE: ${a.unassessed}`);
        else assessed = true;
        for (const h of a.hits) {
          // The OSV record of the component's own ecosystem (e.g. a distribution's backported fix) decides a
          // CVE it evaluated; NVD's upstream ranges decide the rest.
          if (considered.has(h.record.id)) continue;
          add({
            advisory: h.record.id,
            aliases: [],
            ...(h.record.summary ? { summary: h.record.summary } : {}),
            ...(h.uncertain ? { uncertain: h.uncertain } : {}),
            notes: [`NVD criteria ${h.criteria}`, ...h.notes],
            source: 'nvd',
          });
        }
      }
    }
  } else reasons.push('no CPE');
  return { hits: [...hits.values()], ...(assessed ? {} : { unassessed: reasons.join('; ') || 'no identifier' }) };
}

function conflictOf(c: SbomComponent, artifact: string): VersionConflict | undefined {
  const purlVersion = c.purl ? packageIdFromPurl(c.purl)?.version : undefined;
  const cpe = c.cpe ? tryParseCpe(c.cpe) : undefined;
  const cpeVersion = cpe ? literal(cpe.version) : undefined;
  const stated = [purlVersion, c.version].filter((v): v is string => v !== undefined && v.trim() !== '');
  // A distribution package's CPE names the upstream version: 1:3.0.11-1~deb12u2 -> 3.0.11.
  const upstream = (v: string) => (c.purl && /^pkg:(deb|rpm|apk)\//i.test(c.purl) ? v.replace(/^\d+:/, '').replace(/-[^-]*$/, '') : v);
  const cpeAgrees = cpeVersion === undefined || stated.length === 0 || stated.some((v) => sameVersion(v, cpeVersion) || sameVersion(upstream(v), cpeVersion));
  if (stated.every((v) => sameVersion(v, stated[0]!)) && cpeAgrees) return undefined;
  return {
    artifact,
    pointer: c.pointer,
    component: label(c),
    ...(c.version !== undefined ? { version: c.version } : {}),
    ...(purlVersion !== undefined ? { purlVersion } : {}),
    ...(cpeVersion !== undefined ? { cpeVersion } : {}),
  };
}

export function assessVulnerabilities(input: AssessInput): AssessOutput {
  const matches: VulnMatch[] = [];
  const seen = new Set<string>();
  let assessed = 0;
  let total = 0;
  const unassessed: UnassessedComponent[] = [];
  const versionConflicts: VersionConflict[] = [];
  const sbomProblems: string[] = [];
  for (const s of input.sboms) {
    const a = s.analysis;
    if (!a.ok) {
      sbomProblems.push(`${s.source}: ${a.message}`);
      continue;
    }
    const product = vexProductOf(a.model);
    for (const c of a.model.components) {
      const conflict = conflictOf(c, s.artifact);
      if (conflict) versionConflicts.push(conflict);
      const r = componentHits(c, input);
      if (!c.primary) {
        total++;
        if (r.unassessed) unassessed.push({ artifact: s.artifact, pointer: c.pointer, component: label(c), reason: r.unassessed });
        else assessed++;
      }
      const id = c.purl ?? c.cpe ?? label(c);
      for (const hit of r.hits) {
        const key = `${hit.advisory}\u0000${s.artifact}\u0000${c.pointer}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const ids = [hit.advisory, ...hit.aliases];
        const kev = kevEntryFor(ids, input.kev);
        const vex = vexVerdict(input.vex, ids, { ...(c.purl ? { purl: c.purl } : {}), ...(c.ref ? { ref: c.ref } : {}), ...(c.cpe ? { cpe: c.cpe } : {}) }, product);
        matches.push({
          advisory: hit.advisory,
          aliases: hit.aliases,
          ...(hit.summary ? { summary: hit.summary } : {}),
          purl: id,
          ...(c.cpe ? { cpe: c.cpe } : {}),
          source: hit.source,
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
  return { matches, componentsAssessed: assessed, componentsTotal: total, unassessed, versionConflicts, sbomProblems };
}
