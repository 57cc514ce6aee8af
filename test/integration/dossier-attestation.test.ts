/**
 * The verdict (SLSA Verification Summary Attestation) and the CRA file as signed in-toto statements, verified by
 * real cosign: `cra-gate dossier --attest-key` signs both with an Ed25519 decision key; `cosign attach
 * attestation` attaches them to the release's image in the real registry; `cosign verify-attestation --key
 * <public key> --type <predicate type>` verifies each and prints the statement, whose subject is the image
 * digest. A key that did not sign them, or a statement changed after signing, does not verify.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cosign } from '../harness/cosign.ts';
import { Pusher, startRegistry, type TestRegistry } from '../harness/registry.ts';
import { run } from '../../operator/cli/run.ts';
import type { CliIO } from '../../operator/cli/io.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

void describe('CRA file attestations with cosign', () => {
  let work = '';
  let reg: TestRegistry;
  let cosign: Cosign;
  let image = '';
  let digest = '';
  let attestDir = '';

  before(async () => {
    work = mkdtempSync(join(os.tmpdir(), 'cra-attest-'));
    reg = await startRegistry();
    const push = new Pusher(reg);
    digest = await push.image('acme/firewall', '3.1.0');
    image = `${reg.host}/acme/firewall@${digest}`;
    cosign = new Cosign({ workDir: join(work, 'cosign'), registry: reg });
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(work, 'decision.pem')]);
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(work, 'other.pem')]);
    for (const k of ['decision', 'other']) {
      writeFileSync(join(work, `${k}.pub`), createPublicKey(readFileSync(join(work, `${k}.pem`))).export({ type: 'spki', format: 'pem' }));
    }
    // The firewall example, shipped as this image.
    const example = readFileSync(join(repoRoot, 'examples/cra-file/acme-firewall-3.1.0.yaml'), 'utf8');
    writeFileSync(join(work, 'release.yaml'), example.replace('  updates:\n', `  artifacts:\n  - name: appliance-image\n    image: ${image}\n  updates:\n`));
    attestDir = join(work, 'attestations');
    let err = '';
    const io: CliIO = { stdout: { write: () => true, isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {}, cwd: repoRoot };
    const code = await run(['dossier', join(work, 'release.yaml'), '-p', 'examples/cra-file/policy.yaml', '--offline', '--now', '2028-06-01T12:00:00Z', '-o', 'json', '--out', join(work, 'dossier.json'), '--attest-key', join(work, 'decision.pem'), '--attestations-dir', attestDir], io);
    assert.equal(code, 0, err);
    assert.match(err, /acme_acme-firewall-3\.1\.0\.\{vsa,dossier\}\.dsse\.json \(signed, key [0-9a-f]{16}\)/);
  });

  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const verify = (key: string, type: string) =>
    cosign.run(['verify-attestation', '--key', join(work, key), '--insecure-ignore-tlog=true', '--type', type, ...cosign.registryFlags, image]);

  void it('cosign attaches both and verifies them with the published key', async () => {
    for (const kind of ['vsa', 'dossier']) {
      await cosign.run(['attach', 'attestation', '--attestation', join(attestDir, `acme_acme-firewall-3.1.0.${kind}.dsse.json`), ...cosign.registryFlags, image]);
    }
    const vsa = await verify('decision.pub', 'https://slsa.dev/verification_summary/v1');
    const envelope = JSON.parse(vsa.stdout.trim().split('\n')[0]!) as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as {
      subject: { name: string; digest: Record<string, string> }[];
      predicateType: string;
      predicate: { verificationResult: string; verifiedLevels: string[]; verifier: { id: string }; policy: { uri: string; digest: { sha256: string } } };
    };
    assert.deepEqual(statement.subject, [{ name: `${reg.host}/acme/firewall`, digest: { sha256: digest.slice('sha256:'.length) } }]);
    assert.equal(statement.predicateType, 'https://slsa.dev/verification_summary/v1');
    assert.equal(statement.predicate.verificationResult, 'PASSED');
    assert.deepEqual(statement.predicate.verifiedLevels, ['CRA_GATE_APPROVED']);
    assert.equal(statement.predicate.verifier.id, 'https://cra-gate.dev/operator');
    assert.match(statement.predicate.policy.uri, /^cra-gate\.dev\/releasepolicies\/cra-file-declarations/);
    assert.match(statement.predicate.policy.digest.sha256, /^[0-9a-f]{64}$/);
    const file = await verify('decision.pub', 'https://cra-gate.dev/dossier/v1');
    assert.match(file.stdout, /"payloadType":"application\/vnd.in-toto\+json"/);
  });

  void it('cra-gate --attach pushes them itself as OCI referrers, keeping an SBOM attestation cosign attached before', async () => {
    const push = new Pusher(reg);
    const d2 = await push.image('acme/firewall', '3.2.0');
    const ref = `${reg.host}/acme/firewall@${d2}`;
    const sbomKey = await cosign.generateKeyPair('sbom');
    const predicate = join(work, 'sbom.cdx.json');
    writeFileSync(predicate, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }));
    await cosign.attest(ref, sbomKey, predicate, 'cyclonedx', 'bundle');
    const example = readFileSync(join(work, 'release.yaml'), 'utf8').replace(image, ref).replace('name: acme-firewall-3.1.0', 'name: acme-firewall-3.2.0');
    writeFileSync(join(work, 'release-3.2.0.yaml'), example);
    // The CLI reads its environment from `io.env` only (no process-wide state).
    const env = { CRA_GATE_REGISTRY_INSECURE_HOSTS: reg.host, CRA_GATE_REGISTRY_ALLOW_HOSTS: reg.host, DOCKER_CONFIG: reg.dockerConfigDir };
    let err = '';
    const io: CliIO = { stdout: { write: () => true, isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env, cwd: repoRoot };
    const code = await run(['dossier', join(work, 'release-3.2.0.yaml'), '-p', 'examples/cra-file/policy.yaml', '--now', '2028-06-01T12:00:00Z', '-o', 'json', '--out', join(work, 'd2.json'), '--attest-key', join(work, 'decision.pem'), '--attestations-dir', attestDir, '--attach'], io);
    assert.equal(code, 0, err);
    assert.match(err, new RegExp(`attached 2 attestation\\(s\\) to ${reg.host}/acme/firewall@${d2} as OCI referrers \\(referrers tag sha256-[0-9a-f]{64}\\)`));
    for (const type of ['https://slsa.dev/verification_summary/v1', 'https://cra-gate.dev/dossier/v1']) {
      const out = await cosign.run(['verify-attestation', '--key', join(work, 'decision.pub'), '--insecure-ignore-tlog=true', '--new-bundle-format=true', '--type', type, ...cosign.registryFlags, ref]);
      const st = JSON.parse(Buffer.from((JSON.parse(out.stdout.trim().split('\n')[0]!) as { payload: string }).payload, 'base64').toString()) as { subject: { digest: Record<string, string> }[] };
      assert.deepEqual(st.subject[0]!.digest, { sha256: d2.slice('sha256:'.length) });
    }
    await cosign.verifyAttestation(ref, sbomKey, 'cyclonedx', 'bundle');
  });

  void it('--attach with a token-authenticated TLS registry: pushes with the docker config credentials (pull,push scope)', async () => {
    const treg = await startRegistry({ tokenAuth: { username: 'ci', password: 's3cret' } });
    try {
      const push = new Pusher(treg, { username: 'ci', password: 's3cret' });
      const d3 = await push.image('acme/firewall', '3.3.0');
      const ref = `${treg.host}/acme/firewall@${d3}`;
      writeFileSync(join(work, 'release-3.3.0.yaml'), readFileSync(join(work, 'release.yaml'), 'utf8').replace(image, ref).replace('name: acme-firewall-3.1.0', 'name: acme-firewall-3.3.0'));
      const env = { CRA_GATE_REGISTRY_CA_FILE: treg.pki!.caFile, CRA_GATE_REGISTRY_ALLOW_HOSTS: '127.0.0.1,localhost', DOCKER_CONFIG: treg.dockerConfigDir };
      let err = '';
      const io: CliIO = { stdout: { write: () => true, isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env, cwd: repoRoot };
      const code = await run(['dossier', join(work, 'release-3.3.0.yaml'), '-p', 'examples/cra-file/policy.yaml', '--now', '2028-06-01T12:00:00Z', '-o', 'json', '--out', join(work, 'd3.json'), '--attest-key', join(work, 'decision.pem'), '--attestations-dir', attestDir, '--attach'], io);
      assert.equal(code, 0, err);
      const tcosign = new Cosign({ workDir: join(work, 'cosign-tls'), registry: treg });
      await tcosign.run(['verify-attestation', '--key', join(work, 'decision.pub'), '--insecure-ignore-tlog=true', '--new-bundle-format=true', '--type', 'https://slsa.dev/verification_summary/v1', ...tcosign.registryFlags, ref]);
    } finally {
      await treg.stop();
    }
  });

  void it('another key does not verify them', async () => {
    await assert.rejects(verify('other.pub', 'https://slsa.dev/verification_summary/v1'), /verify-attestation .* failed/);
  });

  void it('a statement changed after signing does not verify', async () => {
    const f = join(attestDir, 'acme_acme-firewall-3.1.0.vsa.dsse.json');
    const env = JSON.parse(readFileSync(f, 'utf8')) as { payload: string };
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { verificationResult: string } };
    st.predicate.verificationResult = 'PASSED';
    (st as unknown as { predicateType: string }).predicateType = 'https://slsa.dev/verification_summary/v1?tampered';
    writeFileSync(join(work, 'tampered.json'), JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(st)).toString('base64') }));
    const push = new Pusher(reg);
    const other = await push.image('acme/firewall', '3.1.1');
    const ref = `${reg.host}/acme/firewall@${other}`;
    await cosign.run(['attach', 'attestation', '--attestation', join(work, 'tampered.json'), ...cosign.registryFlags, ref]);
    await assert.rejects(
      cosign.run(['verify-attestation', '--key', join(work, 'decision.pub'), '--insecure-ignore-tlog=true', '--type', 'https://slsa.dev/verification_summary/v1?tampered', ...cosign.registryFlags, ref]),
      /failed/,
    );
  });
});
