/**
 * The `cra-gate` command line: `evaluate`, `explain`, `checks`, and `sbom check` (operator/cli/sbom.ts, loaded
 * lazily). `run(argv, io)` returns the exit code; it never calls process.exit, so tests run it in-process too.
 */
import { runSbomCheck } from './sbom.ts';
import { runDossier } from './dossier.ts';
import { EVALUATION_OPTIONS, evaluateFiles, type RunOptions } from './evaluate-files.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { checkRegistry } from '../checks/index.ts';
import { renderChecksList, renderExplain, suggest } from './catalogue.ts';
import { exitCodeFor, type ReleaseOutcome } from './evaluate.ts';
import { EXIT, useColour, type CliIO } from './io.ts';
import { InputError } from './load.ts';
import { toolVersion } from './report/common.ts';
import { renderJson } from './report/json.ts';
import { renderJunit } from './report/junit.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderSarif } from './report/sarif.ts';
import { renderText } from './report/text.ts';

export const FORMATS = ['text', 'json', 'junit', 'sarif', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

export const USAGE = `cra-gate — the EU Cyber Resilience Act release gate

Usage:
  cra-gate evaluate <file>... [--policy <file>]... [--output text|json|junit|sarif|markdown] [--offline]
  cra-gate explain <check-id>
  cra-gate checks
  cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json]
  cra-gate dossier <file>... [--policy <file>]... [--output html|md|json] [--out FILE | --out-dir DIR] [--offline]
  cra-gate --version | --help

evaluate options:
  -p, --policy FILE          file with ReleasePolicies (several allowed; each release's spec.policyRef picks its own)
  -c, --configmap FILE       file with ConfigMaps (and Secrets, e.g. a policy's signing key) the releases refer to
                             (any input file may also hold them)
  -o, --output FORMAT        text (default), json (status shape), junit, sarif (2.1.0), markdown
      --report FORMAT=FILE   also write a report in FORMAT to FILE (repeatable), e.g. --report sarif=cra.sarif
      --offline              do not fetch network evidence (registries, HTTPS); checks needing it report Error
  -n, --namespace NS         namespace for releases and ConfigMaps without one (default "default")
      --default-policy NAME  ReleasePolicy for releases without spec.policyRef (default "cra-baseline")
      --now RFC3339          evaluate as of this time instead of the clock (reproducible runs)

dossier options (the same evaluation as evaluate, plus):
  -o, --output FORMAT        html (default: one self-contained, printable file), md, json
      --out FILE             write to FILE instead of standard output (one release)
      --out-dir DIR          write one file per release: DIR/<namespace>_<name>.<html|md|json>
      --attest-key FILE      also sign the verdict (SLSA VSA) and the file as in-toto statements (DSSE) with this
      --attestations-dir DIR   Ed25519 PEM key, written to DIR for cosign attach attestation
      --attach               also attach them to every image artifact (by digest) as OCI referrers (Sigstore
                             bundles, as cosign v3 does); registry settings as evaluate's (CRA_GATE_REGISTRY_*)

Exit codes (evaluate):
  0  every release Approved
  1  some release Blocked by a failing check
  2  unusable input (unreadable, malformed or invalid manifest, no release, bad usage), or a verdict that is
     not final: a release is Pending (its policy is missing or invalid) or a blocking check ended in Error
     (e.g. evidence unavailable, or not fetched with --offline)
`;

export type { RunOptions };

function fail(io: CliIO, message: string): number {
  io.stderr.write(`cra-gate: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return EXIT.unusable;
}

export async function run(argv: readonly string[], io: CliIO, opts: RunOptions = {}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'evaluate':
        return await runEvaluate(rest, io, opts);
      case 'explain':
        return runExplain(rest, io);
      case 'checks':
        return runChecks(rest, io);
      case 'sbom':
        return await runSbom(rest, io);
      case 'dossier':
        return await runDossier(rest, io, opts, USAGE);
      case '--version':
      case 'version':
        io.stdout.write(`${toolVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        (command === undefined ? io.stderr : io.stdout).write(USAGE);
        return command === undefined ? EXIT.unusable : 0;
      default:
        return fail(io, `unknown command "${command}" (try: evaluate, explain, checks, sbom check, dossier; --help for usage)`);
    }
  } catch (err) {
    if (err instanceof InputError) return fail(io, err.message);
    return fail(io, `internal error: ${(err as Error)?.message ?? String(err)}`);
  }
}

function parse(args: readonly string[], options: ParseArgsOptionsConfig): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InputError(`${(err as Error).message.replace(/\.$/, '')} (--help for usage)`);
  }
}

function runChecks(args: readonly string[], io: CliIO): number {
  const { values } = parse(args, { output: { type: 'string', short: 'o' } });
  if (values.output === 'json') {
    const list = [...checkRegistry.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(({ id, title, cra, standards, reads, passRule, fix, inForceFrom, inForceBasis, params }) => ({ id, title, cra, standards, reads, passRule, fix, inForceFrom, inForceBasis: inForceBasis ?? 'placedOnMarket', params: params ?? [] }));
    io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else if (values.output === undefined || values.output === 'text') {
    io.stdout.write(renderChecksList());
  } else {
    throw new InputError(`--output must be text or json for checks, not "${values.output as string}"`);
  }
  return 0;
}

function runExplain(args: readonly string[], io: CliIO): number {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new InputError('explain takes exactly one check id, e.g. cra-gate explain update.support-period');
  const id = positionals[0]!;
  const def = checkRegistry.get(id);
  if (!def) {
    const near = suggest(id);
    throw new InputError(`unknown check id "${id}"${near.length ? `; did you mean ${near.join(', ')}?` : ''} (cra-gate checks lists them all)`);
  }
  io.stdout.write(renderExplain(def));
  return 0;
}

async function runSbom(args: readonly string[], io: CliIO): Promise<number> {
  if (args[0] !== 'check') throw new InputError('usage: cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json]');
  // runSbomCheck parses `check <file> [flags]` itself.
  return runSbomCheck([...args], io);
}

function render(format: Format, outcomes: readonly ReleaseOutcome[], exitCode: number, now: Date, colour: boolean): string {
  switch (format) {
    case 'json':
      return renderJson(outcomes, { exitCode });
    case 'junit':
      return renderJunit(outcomes, { now });
    case 'sarif':
      return renderSarif(outcomes, { exitCode, now });
    case 'markdown':
      return renderMarkdown(outcomes, { exitCode });
    case 'text':
      return renderText(outcomes, { colour, exitCode });
  }
}

function isFormat(s: unknown): s is Format {
  return typeof s === 'string' && (FORMATS as readonly string[]).includes(s);
}

async function runEvaluate(args: readonly string[], io: CliIO, opts: RunOptions): Promise<number> {
  const { values, positionals } = parse(args, {
    ...EVALUATION_OPTIONS,
    output: { type: 'string', short: 'o' },
    report: { type: 'string', multiple: true },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const format = (values.output as string | undefined) ?? 'text';
  if (!isFormat(format)) throw new InputError(`--output must be one of ${FORMATS.join(', ')}, not "${format}"`);
  const reports: { format: Format; file: string }[] = [];
  for (const r of (values.report as string[] | undefined) ?? []) {
    const eq = r.indexOf('=');
    const f = r.slice(0, eq);
    if (eq <= 0 || !isFormat(f) || eq === r.length - 1) throw new InputError(`--report takes FORMAT=FILE with FORMAT one of ${FORMATS.join(', ')}, not "${r}"`);
    reports.push({ format: f, file: path.resolve(io.cwd, r.slice(eq + 1)) });
  }
  const { outcomes, now } = await evaluateFiles('evaluate', values, positionals, io, opts);
  const exitCode = exitCodeFor(outcomes);
  io.stdout.write(render(format, outcomes, exitCode, now, useColour(io.stdout, io.env)));
  for (const r of reports) {
    try {
      writeFileSync(r.file, render(r.format, outcomes, exitCode, now, false));
    } catch (err) {
      throw new InputError(`cannot write report ${path.relative(io.cwd, r.file) || r.file}: ${(err as Error).message}`);
    }
  }
  return exitCode;
}
