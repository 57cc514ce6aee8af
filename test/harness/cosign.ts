/**
 * Real cosign (built by test/tools/registry-tools.sh) for test setup: key pairs, signatures, attestations and
 * attached SBOMs pushed to a TestRegistry, and `cosign verify` for the benchmark's comparison.
 *
 * Offline by construction: keys are local, signing uses an empty signing config (no Fulcio, Rekor or TSA) or
 * the legacy `--tlog-upload=false` path, and TUF_ROOT points into the work directory so nothing is fetched.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRegistryTools } from './registry.ts';
import type { TestRegistry } from './registry.ts';

export interface KeyPair {
  /** cosign-encrypted private key file (password ''). */
  readonly key: string;
  readonly pub: string;
  readonly pubPem: string;
}

export interface CosignOptions {
  readonly workDir: string;
  readonly registry?: TestRegistry;
  /** Per-command timeout (default 60 s). */
  readonly timeoutMs?: number;
}

export class Cosign {
  readonly bin: string;
  readonly workDir: string;
  readonly registry: TestRegistry | undefined;
  readonly timeoutMs: number;
  readonly signingConfig: string;

  constructor(opts: CosignOptions) {
    this.bin = join(ensureRegistryTools(['cosign']), 'cosign');
    this.workDir = opts.workDir;
    this.registry = opts.registry;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    mkdirSync(join(this.workDir, 'tuf'), { recursive: true });
    this.signingConfig = join(this.workDir, 'signing-config.json');
    // No transparency log, no TSA, no CA: key-based offline signing.
    writeFileSync(this.signingConfig, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', rekorTlogConfig: {}, tsaConfig: {} }));
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.workDir,
      COSIGN_PASSWORD: '',
      COSIGN_YES: 'true',
      TUF_ROOT: join(this.workDir, 'tuf'),
      SIGSTORE_NO_CACHE: 'true',
      ...(this.registry ? { DOCKER_CONFIG: this.registry.dockerConfigDir } : {}),
      ...(this.registry?.pki ? { SSL_CERT_FILE: this.registry.pki.caFile } : {}),
    };
  }

  /** Flags every registry command needs for the test registry. */
  get registryFlags(): string[] {
    return this.registry?.scheme === 'http' ? ['--allow-http-registry', '--allow-insecure-registry'] : [];
  }

  run(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, [...args], { env: { ...this.env, ...extraEnv }, cwd: this.workDir, timeout: this.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`cosign ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
        else resolve({ stdout, stderr });
      });
    });
  }

  async generateKeyPair(name: string): Promise<KeyPair> {
    const prefix = join(this.workDir, name);
    await this.run(['generate-key-pair', '--output-key-prefix', prefix]);
    return { key: `${prefix}.key`, pub: `${prefix}.pub`, pubPem: readFileSync(`${prefix}.pub`, 'utf8') };
  }

  /** Imports a PEM private key (ECDSA, Ed25519 or RSA) into cosign's format. */
  async importKeyPair(pemFile: string, name: string): Promise<KeyPair> {
    const prefix = join(this.workDir, name);
    await this.run(['import-key-pair', '--key', pemFile, '--output-key-prefix', prefix]);
    return { key: `${prefix}.key`, pub: `${prefix}.pub`, pubPem: readFileSync(`${prefix}.pub`, 'utf8') };
  }

  /**
   * Signs an image by digest. `bundle` (default): cosign v3's Sigstore bundle as an OCI referrer (tag-schema
   * fallback on registries without the referrers API). `legacy`: the `.sig` tag with a simple-signing payload.
   */
  async sign(ref: string, key: KeyPair, format: 'bundle' | 'legacy' = 'bundle'): Promise<void> {
    const fmt = format === 'legacy' ? ['--new-bundle-format=false', '--use-signing-config=false', '--tlog-upload=false'] : ['--signing-config', this.signingConfig];
    await this.run(['sign', '--key', key.key, ...fmt, ...this.registryFlags, ref]);
  }

  /** `cosign attest` with an SBOM predicate (`cyclonedx` or `spdxjson`). */
  async attest(ref: string, key: KeyPair, predicateFile: string, type: 'cyclonedx' | 'spdxjson', format: 'bundle' | 'legacy' = 'bundle'): Promise<void> {
    const fmt = format === 'legacy' ? ['--new-bundle-format=false', '--use-signing-config=false', '--tlog-upload=false'] : ['--signing-config', this.signingConfig];
    await this.run(['attest', '--key', key.key, '--predicate', predicateFile, '--type', type, ...fmt, ...this.registryFlags, ref]);
  }

  async verify(ref: string, key: KeyPair, format: 'bundle' | 'legacy' = 'bundle'): Promise<void> {
    await this.run(['verify', '--key', key.pub, '--insecure-ignore-tlog=true', ...(format === 'bundle' ? ['--new-bundle-format=true'] : []), ...this.registryFlags, ref]);
  }

  async verifyAttestation(ref: string, key: KeyPair, type: 'cyclonedx' | 'spdxjson', format: 'bundle' | 'legacy' = 'bundle'): Promise<void> {
    await this.run(['verify-attestation', '--key', key.pub, '--insecure-ignore-tlog=true', '--type', type, ...(format === 'bundle' ? ['--new-bundle-format=true'] : []), ...this.registryFlags, ref]);
  }
}
