/**
 * vex.valid — Annex I Part II(4): the declared VEX document is well-formed, every status carries what it
 * requires, and its statements are about THIS release. A statement whose product is another product, another
 * version or another BOM (../vex/bind.ts) is ignored by the vulnerability checks; each one is listed here with
 * why, by JSON pointer into the VEX document. A document none of whose statements is about the release fails.
 *
 * Fail closed: without a usable SBOM the release's identity is unknown, so which statements apply cannot be
 * told (Error).
 */
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckDefinition, Finding } from './types.ts';
import { vulnerabilityEvidence } from '../vuln/evidence.ts';
import { vexBinding, vexProductOf } from '../vex/bind.ts';

export const vexValid: CheckDefinition = {
  id: 'vex.valid',
  title: 'VEX document valid and about this release',
  cra: ['Annex I Part II(4)'],
  standards: ['OpenVEX 0.2.0', 'CSAF 2.0 VEX profile', 'CycloneDX 1.4+ VEX', 'CISA VEX minimum requirements'],
  reads: 'spec.vulnerabilityHandling.vex; the primary component (purl, CPE, version) and serialNumber/version of the release SBOMs',
  passRule:
    'the document is OpenVEX, CSAF VEX or CycloneDX VEX; every statement has a known status, and not_affected a justification or impact statement, ' +
    'affected an action statement; at least one statement names this release (purl or CPE of the SBOM primary component with its version, or a BOM-Link to the SBOM); ' +
    'statements about other products are listed and ignored',
  fix: 'Fix the listed statements of the VEX document; name the product as the SBOM does (primary component purl/CPE with version, or urn:cdx:<serialNumber>/<version>#<bom-ref>).',
  inForceFrom: '2027-12-11',
  run(ctx) {
    if (!ctx.release.spec.vulnerabilityHandling?.vex) {
      return { result: 'Skipped', reason: 'NotApplicable', message: 'no VEX document declared (spec.vulnerabilityHandling.vex)' };
    }
    const ev = vulnerabilityEvidence(ctx.evidence);
    const set = ctx.evidence.vulnFeeds?.vexSet;
    if (!ev || !set || ev.vex.length === 0) return errorOutcome('EvidenceUnavailable', 'the VEX document was not collected');
    const v = ev.vex[0]!;
    if (v.error) {
      return v.error.reason === 'FeedInvalid' ? fail('VexInvalid', `${v.source}: ${v.error.message}`) : errorOutcome(v.error.reason, `${v.source}: ${v.error.message}`);
    }
    const sboms = ctx.evidence.sboms ?? [];
    const unusable = sboms.find((s) => !s.analysis.ok);
    if (sboms.length === 0 || unusable) {
      const why = unusable ? `SBOM ${unusable.source} is unusable` : 'no SBOM';
      return errorOutcome('EvidenceUnavailable', `${why}: which VEX statements are about this release cannot be told`);
    }
    const products = sboms.map((s) => (s.analysis.ok ? vexProductOf(s.analysis.model) : undefined));
    const binding = vexBinding(set.documents, products);
    const ignored: Finding[] = binding.ignored.map((i) => ({
      pointer: `/vex${i.targetPointer}`,
      message: `statement ${i.pointer} ignored: ${i.why}`,
    }));
    if (v.problems.length > 0) {
      const head = v.problems.slice(0, 2).map((p) => `${p.pointer}: ${p.message}`).join('; ');
      return fail('VexInvalid', `${v.problems.length} problem(s) in ${v.format} VEX: ${head}`, {
        findings: [...v.problems.map((p) => ({ pointer: `/vex${p.pointer}`, message: p.message })), ...ignored],
      });
    }
    const total = binding.applicable + binding.ignored.length;
    if (total > 0 && binding.applicable === 0) {
      return fail('VexNotForProduct', `none of the ${total} statement(s) of the ${v.format} VEX is about this release: ${binding.ignored[0]!.why}`, {
        findings: ignored,
      });
    }
    if (ignored.length > 0) {
      return pass(`${v.format} VEX: ${binding.applicable} of ${total} statement(s) about this release; ${ignored.length} ignored (${binding.ignored[0]!.why})`, {
        findings: ignored,
      });
    }
    return pass(`${v.format} VEX with ${v.statements} valid statement(s), all about this release`);
  },
};
