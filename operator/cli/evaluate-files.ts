/**
 * What `evaluate` and `dossier` share: their evaluation options, and loading the files and evaluating every
 * release in them with the operator's engine and evidence collectors.
 */
import { type ParseArgsOptionsConfig } from 'node:util';
import type { Collector } from '../evidence/collect.ts';
import { createEvidenceRuntime, type EvidenceRuntime } from '../evidence/runtime.ts';
import { networkSettingsFromEnv } from '../network-config.ts';
import type { ReleasePolicy } from '../api/types.ts';
import { evaluateInputs, type ReleaseOutcome } from './evaluate.ts';
import type { CliIO } from './io.ts';
import { InputError, loadInputs } from './load.ts';
import { progress } from './progress.ts';

export interface RunOptions {
  /** Evidence collectors (default: the operator's registered collectors). */
  collectors?: readonly Collector[];
}

/**
 * The CLI's composition root for evidence: network settings from its environment (`io.env`, parsed here once),
 * the network capability from `--offline` (deny: the HTTPS and registry clients refuse every request), and a
 * feed store and SBOM analyser of this run's own.
 */
export function cliRuntime(io: CliIO, offline: boolean): EvidenceRuntime {
  let network;
  try {
    network = networkSettingsFromEnv(io.env);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return createEvidenceRuntime({ network: offline ? 'deny' : 'allow', ...network });
}

/** The options `evaluate` and `dossier` share (both run the same evaluation). */
export const EVALUATION_OPTIONS = {
  policy: { type: 'string', short: 'p', multiple: true },
  configmap: { type: 'string', short: 'c', multiple: true },
  offline: { type: 'boolean' },
  namespace: { type: 'string', short: 'n' },
  'default-policy': { type: 'string' },
  now: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** Loads the files, evaluates every release in them (evidence collected as the operator does) — shared by evaluate and dossier. */
export async function evaluateFiles(
  verb: string,
  values: Record<string, unknown>,
  positionals: readonly string[],
  io: CliIO,
  opts: RunOptions,
): Promise<{ outcomes: ReleaseOutcome[]; now: Date; policies: ReadonlyMap<string, ReleasePolicy> }> {
  let now = new Date();
  if (values.now !== undefined) {
    const s = values.now as string;
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(s) || Number.isNaN(Date.parse(s))) {
      throw new InputError(`--now must be an RFC 3339 time or a date (e.g. 2028-01-15T12:00:00Z), not "${s}"`);
    }
    now = new Date(s);
  }
  const releaseFiles = positionals;
  if (releaseFiles.length === 0) throw new InputError(`${verb} needs at least one file with a ProductRelease (--help for usage)`);
  const files = [...releaseFiles, ...((values.policy as string[] | undefined) ?? []), ...((values.configmap as string[] | undefined) ?? [])];
  const inputs = loadInputs(files, { namespace: (values.namespace as string | undefined) ?? 'default', cwd: io.cwd });
  if (inputs.releases.length === 0) throw new InputError(`no ProductRelease in ${releaseFiles.join(', ')}`);
  for (const ig of inputs.ignored) io.stderr.write(`cra-gate: note: ignoring ${ig} (${verb} reads ProductRelease, ReleasePolicy and ConfigMap)\n`);

  const defaultPolicy = (values['default-policy'] as string | undefined) ?? 'cra-baseline';
  for (const r of inputs.releases) {
    const name = r.object.spec.policyRef || defaultPolicy;
    if (!inputs.policies.has(name)) {
      io.stderr.write(
        `cra-gate: ${r.source.file}:${r.source.line}: ReleasePolicy "${name}" (used by ProductRelease ${r.object.metadata.namespace}/${r.object.metadata.name}) is not in the given files; pass it with --policy FILE\n`,
      );
    }
  }

  const spinner = progress(io.stderr);
  const offline = values.offline === true;
  // With --offline every network read (HTTPS and registries) is refused by the clients themselves
  // (EvidenceUnavailable "not fetched (offline …)"): the runtime carries network 'deny'.
  const runtime = cliRuntime(io, offline);
  let outcomes: ReleaseOutcome[];
  try {
    outcomes = await evaluateInputs(inputs, {
      now,
      runtime,
      defaultPolicy,
      ...(opts.collectors ? { collectors: opts.collectors } : {}),
      onCollect: (release, phase) => (phase === 'start' ? spinner.start(`collecting evidence for ${release}${offline ? ' (offline)' : ''}`) : spinner.stop()),
    });
  } finally {
    spinner.stop();
  }
  return { outcomes, now, policies: new Map([...inputs.policies].map(([k, v]) => [k, v.object])) };
}
