/**
 * SARIF 2.1.0 (OASIS) for code-scanning UIs (GitHub code scanning, GitLab, Azure DevOps). One run, tool
 * `cra-gate` with a reportingDescriptor (rule) per check id the policies ran; one result per check that did
 * not pass: level `error` for blocking Fail/Error, `warning` for Warn, `note` with an external suppression for
 * Waived. Locations point at the release manifest (the line of the first finding's field when the finding
 * points into the release, else the document start). Validated against the official schema in the tests
 * (operator/cli/report/sarif-schema-2.1.0.json).
 */
import { createHash } from 'node:crypto';
import { formatBasis } from '../../checks/types.ts';
import type { ReleaseOutcome } from '../evaluate.ts';
import { checkDefinition, key, lineOf, severity, toolVersion, coverageText } from './common.ts';

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  defaultConfiguration: { level: 'error' | 'warning' | 'note' };
  properties: Record<string, unknown>;
}

/** `update.support-period` → `UpdateSupportPeriod` (SARIF rule names are identifier-like). */
function ruleName(id: string): string {
  return id
    .split(/[.-]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

function rule(id: string): SarifRule {
  const def = checkDefinition(id);
  if (!def) {
    return {
      id,
      name: ruleName(id),
      shortDescription: { text: `Unknown check ${id}` },
      fullDescription: { text: `The policy names the check id ${id}, which this version of cra-gate does not know.` },
      help: { text: 'Fix the check id in the ReleasePolicy (`cra-gate checks` lists the known ids).', markdown: 'Fix the check id in the ReleasePolicy (`cra-gate checks` lists the known ids).' },
      defaultConfiguration: { level: 'error' },
      properties: { tags: ['cra-gate'] },
    };
  }
  const refs = [...def.cra.map((c) => `CRA ${c}`), ...def.standards.map((g) => `${g} (guidance)`)];
  return {
    id,
    name: ruleName(id),
    shortDescription: { text: def.title },
    fullDescription: { text: `Pass rule: ${def.passRule} Reads: ${def.reads}` },
    help: {
      text: `${def.fix}\nReferences: ${refs.join('; ')}. Applies from ${def.inForceFrom}.`,
      markdown: `**Fix:** ${def.fix}\n\n**Pass rule:** ${def.passRule}\n\n**References:** ${refs.join('; ')}\n\n**In force from:** ${def.inForceFrom}\n\nRun \`cra-gate explain ${id}\` for details.`,
    },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['cra-gate', 'compliance', 'eu-cra'], cra: [...def.cra], standards: [...def.standards], inForceFrom: def.inForceFrom },
  };
}

function fingerprint(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** A relative file path as a URI reference (forward slashes, percent-encoded). */
function fileUri(file: string): string {
  return file
    .split(/[\\/]/)
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

export function renderSarif(outcomes: readonly ReleaseOutcome[], opts: { exitCode: number; now: Date }): string {
  const ruleIds: string[] = [];
  const index = new Map<string, number>();
  const ruleIndex = (id: string): number => {
    let i = index.get(id);
    if (i === undefined) {
      i = ruleIds.length;
      ruleIds.push(id);
      index.set(id, i);
    }
    return i;
  };
  for (const o of outcomes) for (const c of o.evaluation.checks) ruleIndex(c.id);

  const results: unknown[] = [];
  for (const o of outcomes) {
    const r = o.release.object;
    const logical = [{ name: r.metadata.name ?? '', fullyQualifiedName: `ProductRelease/${key(o)}`, kind: 'resource' }];
    const physical = (line: number) => ({
      artifactLocation: { uri: fileUri(o.release.source.file), uriBaseId: '%SRCROOT%' },
      region: { startLine: line },
    });
    if (o.evaluation.decision === 'Pending') {
      const id = `cra-gate.evaluation`;
      results.push({
        ruleId: id,
        level: 'error',
        kind: 'fail',
        message: { text: `${key(o)}: no verdict: ${o.evaluation.reason}: ${o.evaluation.message}` },
        locations: [{ physicalLocation: physical(o.release.source.line), logicalLocations: logical }],
        partialFingerprints: { 'craGate/v1': fingerprint(key(o), id, o.evaluation.reason) },
        properties: { release: key(o), decision: o.evaluation.decision, reason: o.evaluation.reason, policy: o.policyName },
      });
      ruleIndex(id);
      continue;
    }
    for (const c of o.evaluation.checks) {
      const sev = severity(c);
      if (sev === 'ok' || sev === 'skip') continue;
      const findings = o.findings[c.id] ?? [];
      const level = sev === 'block' ? 'error' : sev === 'warn' ? 'warning' : 'note';
      const text = [`${key(o)}: ${c.id} ${c.result === 'Error' ? 'could not run' : 'failed'} (${c.reason}): ${c.message}`, ...findings.slice(0, 20).map((f) => `${f.pointer || '/'}: ${f.message}${f.basis ? ` [${formatBasis(f.basis)}]` : ''}`)].join('\n');
      const result: Record<string, unknown> = {
        ruleId: c.id,
        ruleIndex: ruleIndex(c.id),
        level,
        kind: sev === 'waived' ? 'fail' : c.result === 'Error' ? 'open' : 'fail',
        message: { text },
        locations: [{ physicalLocation: physical(lineOf(o, findings[0]?.pointer)), logicalLocations: logical }],
        partialFingerprints: { 'craGate/v1': fingerprint(key(o), c.id, c.reason) },
        properties: {
          release: key(o),
          decision: o.evaluation.decision,
          enforcement: c.enforcement,
          result: c.result,
          reason: c.reason,
          cra: c.cra,
          guidance: c.guidance ?? [],
          basis: c.basis,
          policy: o.policyName,
          ...(c.id.startsWith('vuln.') && o.evaluation.vulnerabilityCoverage ? { vulnerabilityCoverage: coverageText(o, 20) } : {}),
        },
      };
      if (findings.length > 1) {
        result.relatedLocations = findings.slice(0, 20).map((f, i) => ({
          id: i,
          physicalLocation: physical(lineOf(o, f.pointer)),
          message: { text: `${f.pointer || '/'}: ${f.message}` },
        }));
      }
      if (sev === 'waived') result.suppressions = [{ kind: 'external', status: 'accepted', justification: c.message }];
      results.push(result);
    }
  }

  const rules = ruleIds.map((id) =>
    id === 'cra-gate.evaluation'
      ? {
          id,
          name: 'Evaluation',
          shortDescription: { text: 'The release could be evaluated' },
          fullDescription: { text: 'The release names an existing, valid ReleasePolicy and could be evaluated against it.' },
          help: { text: 'Provide the ReleasePolicy the release names in spec.policyRef (--policy FILE).', markdown: 'Provide the ReleasePolicy the release names in `spec.policyRef` (`--policy FILE`).' },
          defaultConfiguration: { level: 'error' as const },
          properties: { tags: ['cra-gate'] },
        }
      : rule(id),
  );
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'cra-gate',
            semanticVersion: toolVersion(),
            version: toolVersion(),
            informationUri: 'https://eur-lex.europa.eu/eli/reg/2024/2847/oj',
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The directory cra-gate evaluate was run in.' } } },
        invocations: [{ executionSuccessful: opts.exitCode !== 2, exitCode: opts.exitCode, endTimeUtc: opts.now.toISOString() }],
        columnKind: 'unicodeCodePoints',
        results,
        // Coverage is part of every verdict, also when no result is reported for a release.
        properties: {
          vulnerabilityCoverage: Object.fromEntries(
            outcomes.flatMap((o) => (o.evaluation.vulnerabilityCoverage ? [[key(o), { ...o.evaluation.vulnerabilityCoverage, text: coverageText(o, 20) }]] : [])),
          ),
        },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
