/**
 * `cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json]`
 *
 * Checks one SBOM document alone (no release): format validity, BSI TR-03183-2 fields (or NTIA minimum
 * elements), top-level dependencies, completeness, licence identifiers, no vulnerability data.
 * Exit code: 0 compliant, 1 findings, 2 unusable input or usage error.
 */
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { analyzeSbomAsync, localiseFinding } from '../sbom/analyze.ts';
import { DEFAULT_LIMITS, SBOM_MAX_BYTES_CEILING } from '../sbom/parse.ts';
import {
  isProfile,
  ruleBsiFields,
  ruleComplete,
  ruleFormatVersion,
  ruleLicenceIds,
  ruleNoVulnData,
  ruleNtia,
  ruleSchemaValid,
  ruleTopLevelDeps,
} from '../sbom/rules.ts';
import { formatBasis } from '../checks/types.ts';
import type { RuleFinding } from '../sbom/rules.ts';

export const SBOM_USAGE = `Usage: cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json] [--max-bytes N]

Checks an SBOM (CycloneDX JSON 1.4–1.7 or XML 1.2–1.7, SPDX 2.2/2.3 JSON, SPDX 3.0.1 JSON-LD) against BSI TR-03183-2
v2.1.0 (default), v2.0.0 or the NTIA minimum elements.
--max-bytes: the largest document read (default ${DEFAULT_LIMITS.maxBytes}, at most ${SBOM_MAX_BYTES_CEILING}; in a
ReleasePolicy: spec.limits.sbomMaxBytes).
Exit code: 0 compliant, 1 findings, 2 unusable input or usage error.
`;

export interface SbomCheckIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/** Every finding is listed with all its pointers up to this many per group. */
const CLI_MAX_POINTERS = 10_000;

async function readLimited(path: string, max: number): Promise<{ bytes: Buffer } | { tooLarge: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > max) return { tooLarge: size };
    return { bytes: await fh.readFile() };
  } finally {
    await fh.close();
  }
}

export async function runSbomCheck(argv: string[], io: SbomCheckIo): Promise<number> {
  let values: { profile?: string | undefined; output?: string | undefined; 'max-bytes'?: string | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { profile: { type: 'string' }, output: { type: 'string', short: 'o' }, 'max-bytes': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${SBOM_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(SBOM_USAGE);
    return 0;
  }
  const [cmd, file, ...extra] = positionals;
  if (cmd !== 'check' || !file || extra.length > 0) {
    io.stderr.write(SBOM_USAGE);
    return 2;
  }
  const profile = values.profile ?? 'bsi-2.1';
  if (!isProfile(profile)) {
    io.stderr.write(`unknown --profile ${profile} (bsi-2.1, bsi-2.0 or ntia)\n`);
    return 2;
  }
  const maxBytes = values['max-bytes'] === undefined ? DEFAULT_LIMITS.maxBytes : Number(values['max-bytes']);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024 || maxBytes > SBOM_MAX_BYTES_CEILING) {
    io.stderr.write(`--max-bytes must be an integer from 1024 to ${SBOM_MAX_BYTES_CEILING} (the analysis heap bounds it)\n`);
    return 2;
  }
  const limits = { ...DEFAULT_LIMITS, maxBytes };
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    io.stderr.write(`unknown --output ${output} (text or json)\n`);
    return 2;
  }

  let read: { bytes: Buffer } | { tooLarge: number };
  try {
    read = await readLimited(file, limits.maxBytes);
  } catch (err) {
    return unusable(io, output, file, 'SbomUnreadable', err instanceof Error ? err.message : String(err));
  }
  if ('tooLarge' in read) {
    const hint = maxBytes >= SBOM_MAX_BYTES_CEILING ? `the ceiling of ${SBOM_MAX_BYTES_CEILING} bytes` : `the limit of ${maxBytes} bytes (raise it with --max-bytes, at most ${SBOM_MAX_BYTES_CEILING})`;
    return unusable(io, output, file, 'SbomTooLarge', `document is ${read.tooLarge} bytes, above ${hint}`);
  }
  const a = await analyzeSbomAsync(read.bytes, limits);
  if (!a.ok) return unusable(io, output, file, a.reason, a.message, a.digest);

  const raw: { id: string; findings: RuleFinding[] }[] = [
    { id: 'sbom.format-valid', findings: ruleSchemaValid(a) },
    { id: 'sbom.format-version', findings: ruleFormatVersion(a, profile) },
    {
      id: 'sbom.bsi-tr-03183-fields',
      findings: profile === 'ntia' ? ruleNtia(a.model, CLI_MAX_POINTERS) : ruleBsiFields(a.model, profile, CLI_MAX_POINTERS),
    },
    { id: 'sbom.top-level-deps', findings: ruleTopLevelDeps(a.model) },
    { id: 'sbom.complete', findings: ruleComplete(a.model, CLI_MAX_POINTERS) },
    { id: 'sbom.licence-ids', findings: ruleLicenceIds(a.model, CLI_MAX_POINTERS) },
    { id: 'sbom.no-vuln-data', findings: ruleNoVulnData(a.model) },
  ];
  // XML SBOMs: pointers become XPath into the document.
  const rules = raw.map((r) => ({ id: r.id, findings: r.findings.map((f) => localiseFinding(a, f)) }));
  const compliant = rules.every((r) => r.findings.length === 0);
  if (output === 'json') {
    const doc = {
      file,
      digest: a.digest,
      format: a.format,
      specVersion: a.specVersion,
      schema: { kind: a.schema.schema, name: a.schema.schemaName, valid: a.schema.valid },
      profile,
      components: a.model.components.length,
      compliant,
      checks: rules.map((r) => ({ id: r.id, result: r.findings.length === 0 ? 'Pass' : 'Fail', reason: r.findings[0]?.reason ?? 'Compliant' })),
      findings: rules.flatMap((r) => r.findings.map((f) => ({ check: r.id, reason: f.reason, pointer: f.pointer, count: f.count, message: f.message, pointers: f.pointers, basis: f.basis }))),
    };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout.write(`${file}: ${a.format} ${a.specVersion}, ${a.model.components.length} components, ${a.digest}\n`);
    io.stdout.write(`schema: ${a.schema.schemaName}: ${a.schema.valid ? 'valid' : 'INVALID'}\nprofile: ${profile}\n\n`);
    for (const r of rules) {
      io.stdout.write(`${r.findings.length === 0 ? 'PASS' : 'FAIL'}  ${r.id}\n`);
      for (const f of r.findings) io.stdout.write(`      ${f.reason}: ${f.message} [${formatBasis(f.basis)}]\n`);
    }
    io.stdout.write(`\n${compliant ? 'compliant' : `${rules.filter((r) => r.findings.length > 0).length} check(s) failed`}\n`);
  }
  return compliant ? 0 : 1;
}

function unusable(io: SbomCheckIo, output: string, file: string, reason: string, message: string, digest?: string): number {
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify({ file, ...(digest ? { digest } : {}), compliant: false, error: { reason, message } }, null, 2)}\n`);
  } else {
    io.stderr.write(`${file}: unusable SBOM: ${reason}: ${message}\n`);
  }
  return 2;
}
