/**
 * The `cra-gate` command line: `evaluate`, `explain`, `checks`, `sbom check` and `dossier`. `run(argv, io)` returns
 * the exit code; it never calls process.exit, so tests run it in-process too.
 *
 * Start-up is what a CI step pays: each verb's module is imported only when that verb runs (`sbom check` never loads
 * the engine, the Kubernetes client or sigstore; `checks` never loads the SBOM schemas). Keep this file's imports
 * to what every verb needs.
 */
import { EXIT, type CliIO } from './io.ts';
import { InputError } from './input-error.ts';
import type { RunOptions } from './evaluate-files.ts';

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
        return await (await import('./commands.ts')).runEvaluate(rest, io, opts);
      case 'explain':
        return (await import('./commands.ts')).runExplain(rest, io);
      case 'checks':
        return (await import('./commands.ts')).runChecks(rest, io);
      case 'sbom':
        return await runSbom(rest, io);
      case 'dossier':
        return await (await import('./dossier.ts')).runDossier(rest, io, opts, USAGE);
      case '--version':
      case 'version':
        io.stdout.write(`${(await import('../util/version.ts')).packageVersion()}\n`);
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

async function runSbom(args: readonly string[], io: CliIO): Promise<number> {
  if (args[0] !== 'check') throw new InputError('usage: cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json]');
  // runSbomCheck parses `check <file> [flags]` itself.
  return (await import('./sbom.ts')).runSbomCheck([...args], io);
}
