/**
 * `cra-gate dossier`: the release's CRA file (technical documentation per Annex VII, a draft EU declaration of
 * conformity per Annex V, Art. 14 drafts), built from the same evaluation as `evaluate` — same engine, same
 * evidence collectors, offline with --offline. Exit codes are evaluate's: the file is written in every case
 * (a Blocked release's file says why), and the code tells whether the verdict was Approved.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildDossier, type Dossier } from '../dossier/model.ts';
import { decisionKey, type DecisionKey } from '../attestation/decision.ts';
import { DOSSIER_PREDICATE_TYPE, VSA_PREDICATE_TYPE, dossierStatement, policyDigest, signInToto, subjectsOf, vsaStatement } from '../attestation/vsa.ts';
import { attachAttestations, type Attestation } from '../attestation/publish.ts';
import { RegistryClient } from '../evidence/oci/client.ts';
import { formatReference, parseImageReference } from '../evidence/oci/reference.ts';
import { networkSettingsFromEnv } from '../network-config.ts';
import { normaliseRegistryKey, parseDockerConfig, type Credentials } from '../evidence/oci/auth.ts';
import os from 'node:os';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import { renderDossierHtml, renderDossierJson, renderDossierMarkdown } from '../dossier/render.ts';
import { exitCodeFor } from './evaluate.ts';
import type { CliIO } from './io.ts';
import { InputError } from './load.ts';
import { toolVersion } from './report/common.ts';
import { EVALUATION_OPTIONS, evaluateFiles, type RunOptions } from './evaluate-files.ts';

const OUTPUTS = { html: 'html', md: 'md', markdown: 'md', json: 'json' } as const;

export async function runDossier(args: readonly string[], io: CliIO, opts: RunOptions, usage: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...EVALUATION_OPTIONS, output: { type: 'string', short: 'o' }, out: { type: 'string' }, 'out-dir': { type: 'string' }, 'attest-key': { type: 'string' }, 'attestations-dir': { type: 'string' }, attach: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new InputError(`${(err as Error).message.replace(/\.$/, '')} (--help for usage)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const out = (values.output) ?? 'html';
  const ext = (OUTPUTS as Record<string, 'html' | 'md' | 'json'>)[out];
  if (!ext) throw new InputError(`--output must be html, md or json for dossier, not "${out}"`);
  if (values.out !== undefined && values['out-dir'] !== undefined) throw new InputError('give --out or --out-dir, not both');
  const attestKey = values['attest-key'];
  const attestDir = values['attestations-dir'];
  if ((attestKey === undefined) !== (attestDir === undefined)) throw new InputError('--attest-key and --attestations-dir go together');
  if (values.attach === true && attestKey === undefined) throw new InputError('--attach needs --attest-key and --attestations-dir');
  if (values.attach === true && values.offline === true) throw new InputError('--attach writes to registries; it cannot be combined with --offline');
  const key = attestKey !== undefined ? loadSigningKey(path.resolve(io.cwd, attestKey)) : undefined;
  const { outcomes, now, policies } = await evaluateFiles('dossier', values, positionals, io, opts);
  if (outcomes.length > 1 && values['out-dir'] === undefined) throw new InputError(`${outcomes.length} releases: use --out-dir DIR to write one file per release`);
  const render = ext === 'html' ? renderDossierHtml : ext === 'md' ? renderDossierMarkdown : renderDossierJson;
  for (const o of outcomes) {
    const dossier = buildDossier({ release: o.release.object, evaluation: o.evaluation, evidence: o.evidence, now, tool: `cra-gate ${toolVersion()}` });
    const text = render(dossier);
    if (key && attestDir) {
      const signed = writeAttestations(io, key, path.resolve(io.cwd, attestDir), o.release.object, dossier, policies.get(o.policyName));
      if (signed && values.attach === true) await attachToImages(io, o.release.object, signed);
    }
    const dir = values['out-dir'];
    const file = dir
      ? path.resolve(io.cwd, dir, `${dossier.release.namespace}_${dossier.release.name}.${ext}`)
      : values.out !== undefined
        ? path.resolve(io.cwd, values.out)
        : undefined;
    if (!file) {
      io.stdout.write(text);
      continue;
    }
    try {
      if (dir) mkdirSync(path.resolve(io.cwd, dir), { recursive: true });
      writeFileSync(file, text);
    } catch (err) {
      throw new InputError(`cannot write ${path.relative(io.cwd, file) || file}: ${(err as Error).message}`);
    }
    io.stderr.write(`cra-gate: wrote ${path.relative(io.cwd, file) || file} (${dossier.verdict.decision}, ${dossier.gaps} item(s) to be provided)\n`);
  }
  return exitCodeFor(outcomes);
}

function loadSigningKey(file: string): DecisionKey {
  try {
    return decisionKey(createPrivateKey(readFileSync(file)));
  } catch (err) {
    // Never echo key material: only the file and what kind of problem it is.
    throw new InputError(`--attest-key ${file}: not a PEM Ed25519 private key (${(err as Error).message.split('\n')[0]!.slice(0, 80)})`);
  }
}

/** The verdict (SLSA VSA) and the file (dossier statement), each a DSSE envelope signed with the key. */
function writeAttestations(io: CliIO, key: DecisionKey, dir: string, release: ProductRelease, dossier: Dossier, policy: ReleasePolicy | undefined): Attestation[] | undefined {
  const base = `${dossier.release.namespace}_${dossier.release.name}`;
  if (subjectsOf(release).length === 0) {
    io.stderr.write(`cra-gate: ${dossier.release.namespace}/${dossier.release.name}: no artifact with a digest to attest to; no attestation written\n`);
    return undefined;
  }
  mkdirSync(dir, { recursive: true });
  const vsa = signInToto(key, vsaStatement(dossier, release, { version: toolVersion(), ...(policy ? { policyDigest: policyDigest(policy.spec) } : {}) }));
  const file = signInToto(key, dossierStatement(dossier, release));
  writeFileSync(path.join(dir, `${base}.vsa.dsse.json`), `${JSON.stringify(vsa)}\n`);
  writeFileSync(path.join(dir, `${base}.dossier.dsse.json`), `${JSON.stringify(file)}\n`);
  io.stderr.write(`cra-gate: wrote ${path.relative(io.cwd, path.join(dir, `${base}.{vsa,dossier}.dsse.json`))} (signed, key ${key.keyid.slice(0, 16)})\n`);
  return [
    { predicateType: VSA_PREDICATE_TYPE, envelope: vsa },
    { predicateType: DOSSIER_PREDICATE_TYPE, envelope: file },
  ];
}

/** `--attach`: the statements go to every image artifact (by digest) as OCI referrers (Sigstore bundles, as cosign v3 stores them). */
async function attachToImages(io: CliIO, release: ProductRelease, attestations: Attestation[]): Promise<void> {
  // Push credentials as docker/cosign read them: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
  const dockerConfig = path.join(io.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
  let creds = new Map<string, Credentials>();
  try {
    creds = parseDockerConfig(readFileSync(dockerConfig, 'utf8'), dockerConfig);
  } catch (err) {
    // No file, or a file with only credential helpers ("no auths"): anonymous push; anything else is an input error.
    const msg = (err as Error).message;
    if ((err as { code?: string }).code !== 'ENOENT' && !/has no "auths"/.test(msg)) throw new InputError(`--attach: ${dockerConfig}: ${msg.slice(0, 120)}`);
  }
  let registry;
  try {
    registry = networkSettingsFromEnv(io.env).registry;
  } catch (err) {
    throw new InputError(`--attach: ${(err as Error).message}`);
  }
  // --attach is refused with --offline before anything runs, so this push is online by construction.
  const client = new RegistryClient({ ...registry, network: 'allow', credentials: (host) => creds.get(normaliseRegistryKey(host)) });
  try {
    for (const a of release.spec.artifacts ?? []) {
      if (!a.image) continue;
      const ref = parseImageReference(a.image);
      const image = ref.digest ? ref : a.digest ? { ...ref, digest: a.digest } : undefined;
      if (!image) throw new InputError(`--attach: artifact ${a.name} (${a.image}) has no digest; attestations attach to an image by digest`);
      const { referrers, fallbackTag } = await attachAttestations(client, image, attestations);
      io.stderr.write(`cra-gate: attached ${referrers.length} attestation(s) to ${formatReference(image)} as OCI referrers${fallbackTag ? ` (referrers tag ${fallbackTag})` : ''}\n`);
    }
  } finally {
    client.close();
  }
}
