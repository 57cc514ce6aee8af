/**
 * cra-gate gates itself (issue #18): its own release, declared in examples/cra-gate-self.yaml, is approved by its
 * own baseline policy (policies/cra-baseline.yaml, applied unchanged) on real evidence:
 *
 *  - the image is built here from the Dockerfile (test/harness/docker.ts, as the image test does) and pushed with
 *    `docker push` to a real OCI registry (CNCF distribution) on loopback;
 *  - its SBOM is made by a real SBOM tool, @cyclonedx/cyclonedx-npm, from the lock file the image was installed
 *    from, and the test checks that it lists exactly the packages in the image's /app/node_modules;
 *  - real cosign signs the image and attaches the SBOM as an in-toto attestation (`cosign attest --type
 *    cyclonedx`) whose subject is the image digest; the public key is the Secret the baseline names;
 *  - SECURITY.md (the repository's own file: CVD policy and support period) and an RFC 9116 security.txt are
 *    served by an HTTPS server on loopback; the shipped defaults are `helm template` of charts/cra-gate;
 *  - the vulnerability feeds are real OSV, NVD and CISA KEV records (test/fixtures/vuln/SOURCES.md);
 *  - the operator process evaluates it on a real kube-apiserver.
 *
 * Then one negative: the same image in another repository whose SBOM attestation is signed by another key ⇒ the
 * attestation is rejected, no SBOM is left, and the release is Blocked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toolsBin } from '../harness/controlplane.ts';
import { Cosign, type KeyPair } from '../harness/cosign.ts';
import { buildOperatorImage, ensureDocker, repoRoot, run, type Docker } from '../harness/docker.ts';
import { startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { parseYamlStream } from '../../operator/validation/yaml.ts';
import type { ProductRelease } from '../../operator/api/types.ts';

const EXAMPLE = path.join(repoRoot, 'examples', 'cra-gate-self.yaml');
/** The placeholders of the example that this test replaces with what it built and serves. */
const EXAMPLE_ORIGIN = 'https://cra-gate.dev';
const EXAMPLE_IMAGE = `ghcr.io/cra-gate/cra-gate@sha256:${'0'.repeat(64)}`;
const EXAMPLE_NAMESPACE = 'cra-gate-releases';
const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The checks of policies/cra-baseline.yaml and the result each must have for cra-gate's own release. */
const EXPECTED: Record<string, { result: string; enforcement: string }> = {
  'cra.applicability': { result: 'Pass', enforcement: 'Block' },
  'manufacturer.identity': { result: 'Pass', enforcement: 'Block' },
  'conformity.route': { result: 'Pass', enforcement: 'Block' },
  'userinfo.annex-ii': { result: 'Pass', enforcement: 'Block' },
  'update.channel': { result: 'Pass', enforcement: 'Block' },
  'update.support-period': { result: 'Pass', enforcement: 'Block' },
  'disclosure.contact': { result: 'Pass', enforcement: 'Block' },
  'disclosure.security-txt': { result: 'Pass', enforcement: 'Warn' },
  'disclosure.cvd-policy': { result: 'Pass', enforcement: 'Block' },
  'config.secure-defaults': { result: 'Pass', enforcement: 'Block' },
  'signature.valid': { result: 'Pass', enforcement: 'Block' },
  'sbom.present': { result: 'Pass', enforcement: 'Block' },
  'sbom.format-valid': { result: 'Pass', enforcement: 'Block' },
  'sbom.top-level-deps': { result: 'Pass', enforcement: 'Block' },
  'sbom.per-version': { result: 'Pass', enforcement: 'Block' },
  'sbom.format-version': { result: 'Pass', enforcement: 'Warn' },
  // cyclonedx-npm writes no BSI TR-03183-2 fields (creator contact, filename, SHA-512, bsi:component:*) and no
  // compositions: guidance, so these warn and do not block (docs/sbom.md).
  'sbom.bsi-tr-03183-fields': { result: 'Fail', enforcement: 'Warn' },
  'sbom.complete': { result: 'Fail', enforcement: 'Warn' },
  'sbom.licence-ids': { result: 'Pass', enforcement: 'Warn' },
  'sbom.no-vuln-data': { result: 'Pass', enforcement: 'Warn' },
  'artifact.hash-matches-sbom': { result: 'Pass', enforcement: 'Warn' },
  'vuln.no-known-exploited': { result: 'Pass', enforcement: 'Block' },
  'vuln.no-known-exploitable': { result: 'Pass', enforcement: 'Block' },
  // cra-gate 0.1.0 declares no VEX document (no known vulnerability to speak about): not applicable.
  'vex.valid': { result: 'Skipped', enforcement: 'Block' },
};

/** Every npm package (name@version) under a node_modules tree, nested ones included. */
const LIST_PACKAGES = `
const fs = require('node:fs'), path = require('node:path');
const out = new Set();
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.name.startsWith('@')) { walk(p); continue; }
    const pj = path.join(p, 'package.json');
    if (fs.existsSync(pj)) {
      const j = JSON.parse(fs.readFileSync(pj, 'utf8'));
      if (j.name && j.version) out.add(j.name + '@' + j.version);
    }
    if (fs.existsSync(path.join(p, 'node_modules'))) walk(path.join(p, 'node_modules'));
  }
};
walk('/app/node_modules');
console.log(JSON.stringify([...out].sort()));`;

/** name@version of every pkg:npm component of a CycloneDX document (nested components included). */
function sbomPackages(bom: { components?: unknown[] }): string[] {
  const out = new Set<string>();
  const walk = (list: unknown[] | undefined) => {
    for (const c of list ?? []) {
      const comp = c as { purl?: string; components?: unknown[] };
      const m = comp.purl ? /^pkg:npm\/(.+)@([^?#@]+)(?:[?#].*)?$/.exec(comp.purl) : null;
      if (m) out.add(`${decodeURIComponent(m[1]!)}@${decodeURIComponent(m[2]!)}`);
      walk(comp.components);
    }
  };
  walk(bom.components);
  return [...out].sort();
}

describe('cra-gate gates itself: the baseline approves its own release on real evidence', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'cra-gate-self-'));
  let docker: Docker;
  let image = '';
  let cluster: Cluster;
  let reg: TestRegistry;
  let cosign: Cosign;
  let releaseKey: KeyPair;
  let otherKey: KeyPair;
  let server: Server;
  let origin = '';
  let op: OperatorProcess | undefined;
  let digest = '';
  let bomFile = '';
  let attestedSbomDigest = '';
  let ns = '';
  let manifests = '';
  let approved: ProductRelease | undefined;

  /** The trusted key and the feeds, as the baseline names them (Secret and ConfigMaps in cra-gate). */
  const keyAndFeeds = () => {
    const osvDir = path.join(repoRoot, 'test', 'fixtures', 'vuln', 'osv');
    const osv = Object.fromEntries(readdirSync(osvDir).filter((f) => f.endsWith('.json')).map((f) => [f, readFileSync(path.join(osvDir, f), 'utf8')]));
    const kev = JSON.stringify(JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'vuln', 'kev', 'known_exploited_vulnerabilities.json'), 'utf8')));
    const nvd = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'vuln', 'nvd', 'nvd-demo-subset.json'), 'utf8');
    const meta = (name: string) => ({ name, namespace: 'cra-gate' });
    return {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Secret', metadata: meta('cra-gate-signing-keys'), stringData: { 'cosign.pub': releaseKey.pubPem } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('osv-feed'), data: osv },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('kev-feed'), data: { 'kev.json': kev } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('nvd-feed'), data: { 'nvd.json': nvd } },
      ],
    };
  };
  const defaultsConfigMap = () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cra-gate-${VERSION}-defaults`, namespace: ns }, data: { 'manifests.yaml': manifests } });

  /** The example with its placeholders replaced: the image pushed here, the loopback site, a fresh namespace. */
  const releaseFromExample = (name: string, imageRef: string): ProductRelease => {
    const text = readFileSync(EXAMPLE, 'utf8').replaceAll(EXAMPLE_ORIGIN, origin).replaceAll(EXAMPLE_IMAGE, imageRef).replaceAll(EXAMPLE_NAMESPACE, ns);
    const doc = parseYamlStream(text).map((d) => d.doc as ProductRelease).find((d) => d.kind === 'ProductRelease');
    assert.ok(doc, 'the example declares a ProductRelease');
    return { ...doc, metadata: { ...doc.metadata, name, namespace: ns } };
  };

  before(async () => {
    docker = await ensureDocker();
    ({ image } = await buildOperatorImage(docker, { prune: true, log: (l) => process.stderr.write(`[self-gate] ${l}\n`) }));
    [cluster, reg] = await Promise.all([startCluster(), startRegistry()]);
    cosign = new Cosign({ workDir: path.join(work, 'cosign'), registry: reg, timeoutMs: 120_000 });
    releaseKey = await cosign.generateKeyPair('release');
    otherKey = await cosign.generateKeyPair('other');

    // The project's web site: SECURITY.md as raw text (as a forge serves it) and an RFC 9116 security.txt.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(work, 'key.pem'), '-out', path.join(work, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    // One Expires for the whole run: the same document (and digest) for the operator and the CLI.
    const expires = new Date(Date.now() + 180 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const pages = new Map<string, { type: string; body: () => string }>([
      ['/SECURITY.md', { type: 'text/plain; charset=utf-8', body: () => readFileSync(path.join(repoRoot, 'SECURITY.md'), 'utf8') }],
      ['/.well-known/security.txt', {
        type: 'text/plain; charset=utf-8',
        body: () => [
          'Contact: mailto:security@cra-gate.dev',
          'Contact: https://github.com/cra-gate/cra-gate/security/advisories/new',
          `Expires: ${expires}`,
          `Policy: ${origin}/SECURITY.md`,
          'Preferred-Languages: en, de',
          `Canonical: ${origin}/.well-known/security.txt`,
          '',
        ].join('\n'),
      }],
      ['/releases/stable.json', { type: 'application/json', body: () => JSON.stringify({ product: 'cra-gate', releases: [{ version: VERSION }] }) }],
    ]);
    server = createServer({ key: readFileSync(path.join(work, 'key.pem')), cert: readFileSync(path.join(work, 'cert.pem')) }, (req, res) => {
      const page = pages.get(req.url ?? '');
      if (!page) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': page.type }).end(page.body());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    origin = `https://${host}`;

    op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'self-gate',
      args: ['--leader-elect', 'false'],
      env: {
        CRA_GATE_REGISTRY_ALLOW_HOSTS: '127.0.0.1',
        CRA_GATE_REGISTRY_INSECURE_HOSTS: reg.host,
        CRA_GATE_HTTP_ALLOW_HOSTS: host,
        CRA_GATE_HTTP_CA_FILE: path.join(work, 'cert.pem'),
      },
    });
    await op.port();
  });

  after(async () => {
    // Untag the registry tags (the image itself stays for the next run).
    if (reg && docker) await docker.docker(['rmi', `${reg.host}/cra-gate/cra-gate:${VERSION}`, `${reg.host}/cra-gate/cra-gate-foreign-sbom:${VERSION}`]);
    await op?.stop();
    await Promise.all([cluster?.stop(), reg?.stop()]);
    server?.closeAllConnections();
    server?.close();
    await docker?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('pushes the image, makes its SBOM with cyclonedx-npm (exactly the packages in the image), signs and attests it', async () => {
    const tag = `${reg.host}/cra-gate/cra-gate:${VERSION}`;
    assert.equal((await docker.docker(['tag', image, tag])).code, 0);
    const push = await docker.docker(['push', tag], { timeoutMs: 600_000 });
    assert.equal(push.code, 0, push.stderr);
    digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1] ?? '';
    assert.match(digest, /^sha256:[0-9a-f]{64}$/, push.stdout);

    // The SBOM: production dependencies from the lock file the image's `npm ci --omit=dev` installed.
    bomFile = path.join(work, 'cra-gate.cdx.json');
    const cdx = await run(process.execPath, [path.join(repoRoot, 'node_modules', '@cyclonedx', 'cyclonedx-npm', 'bin', 'cyclonedx-npm-cli.js'),
      '--omit', 'dev', '--package-lock-only', '--output-reproducible', '--spec-version', '1.6', '--output-file', bomFile], { cwd: repoRoot, timeoutMs: 300_000 });
    assert.equal(cdx.code, 0, cdx.stderr);
    const bom = JSON.parse(readFileSync(bomFile, 'utf8')) as { metadata: { component: { name: string; version: string } }; components?: unknown[] };
    assert.deepEqual([bom.metadata.component.name, bom.metadata.component.version], ['cra-gate', VERSION]);
    // It describes what ships: the packages in the image, read from the image itself.
    const inImage = await docker.docker(['run', '--rm', '--network', 'none', '--entrypoint', 'node', image, '-e', LIST_PACKAGES], { timeoutMs: 120_000 });
    assert.equal(inImage.code, 0, inImage.stderr);
    const shipped = JSON.parse(inImage.stdout) as string[];
    assert.ok(shipped.length > 50, `${shipped.length} packages in the image`);
    assert.deepEqual(sbomPackages(bom), shipped, 'the SBOM lists exactly the npm packages of the image');

    const ref = `${reg.host}/cra-gate/cra-gate@${digest}`;
    await cosign.sign(ref, releaseKey);
    await cosign.attest(ref, releaseKey, bomFile, 'cyclonedx');
    // What the registry now holds: the DSSE envelope whose in-toto statement names the digest and carries the SBOM.
    const verified = await cosign.run(['verify-attestation', '--key', releaseKey.pub, '--insecure-ignore-tlog=true', '--type', 'cyclonedx', '--new-bundle-format=true', ...cosign.registryFlags, ref]);
    // One JSON document per line: a DSSE envelope, or (Sigstore bundle format) a bundle holding it.
    const line = JSON.parse(verified.stdout.trim().split('\n')[0] ?? '{}') as { payload?: string; dsseEnvelope?: { payload: string } };
    const payload = line.payload ?? line.dsseEnvelope?.payload;
    assert.ok(payload, `cosign verify-attestation printed an envelope: ${verified.stdout.slice(0, 300)}`);
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as { subject: { digest: { sha256: string } }[]; predicate: unknown };
    assert.deepEqual(statement.subject.map((x) => `sha256:${x.digest.sha256}`), [digest]);
    assert.deepEqual(statement.predicate, JSON.parse(readFileSync(bomFile, 'utf8')), 'the attested predicate is the generated SBOM');
    attestedSbomDigest = sha256(JSON.stringify(statement.predicate));

    // The negative's image: the same bytes in another repository, its SBOM attested with a key the policy does not trust.
    const foreign = `${reg.host}/cra-gate/cra-gate-foreign-sbom:${VERSION}`;
    assert.equal((await docker.docker(['tag', image, foreign])).code, 0);
    const push2 = await docker.docker(['push', foreign], { timeoutMs: 600_000 });
    assert.equal(push2.code, 0, push2.stderr);
    assert.equal(/digest: (sha256:[0-9a-f]{64})/.exec(push2.stdout)?.[1], digest);
    const foreignRef = `${reg.host}/cra-gate/cra-gate-foreign-sbom@${digest}`;
    await cosign.sign(foreignRef, releaseKey);
    await cosign.attest(foreignRef, otherKey, bomFile, 'cyclonedx');
  });

  it('is Approved by policies/cra-baseline.yaml, every check as expected, on the digests it verified', async () => {
    assert.ok(digest, 'the image was pushed');
    // What the baseline policy names: the policy file itself, the trusted key, the feeds.
    await cluster.kubectl(['apply', '-f', path.join(repoRoot, 'policies', 'cra-baseline.yaml')]);
    // Server-side: the KEV catalogue is larger than kubectl's last-applied annotation allows.
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(keyAndFeeds()));
    ns = await cluster.namespace('cra-gate-releases');
    // The shipped default configuration: the chart rendered with its default values.
    const helm = path.join(toolsBin(), 'helm');
    if (!existsSync(helm)) assert.equal((await run('bash', [path.join(repoRoot, 'test', 'tools', 'go-tools.sh'), 'helm'])).code, 0, 'building helm');
    const rendered = await run(helm, ['template', 'cra-gate', path.join(repoRoot, 'charts', 'cra-gate'), '--namespace', 'cra-gate'], { timeoutMs: 120_000 });
    assert.equal(rendered.code, 0, rendered.stderr);
    manifests = rendered.stdout;
    await cluster.kubectl(['create', '-f', '-'], JSON.stringify(defaultsConfigMap()));

    const name = `cra-gate-${VERSION}`;
    await cluster.apply(releaseFromExample(name, `${reg.host}/cra-gate/cra-gate@${digest}`));
    const r = await waitForDecision(cluster, ns, name, (x) => x.status?.decision !== 'Pending', 180_000);
    const checks = r.status?.checks ?? [];
    const table = checks.map((c) => `${c.id} ${c.result} ${c.reason ?? ''}: ${c.message ?? ''}`).join('\n');
    assert.equal(r.status?.decision, 'Approved', table);
    assert.equal(r.status?.conditions?.find((c) => c.type === 'Approved')?.status, 'True');
    // Every check of the baseline ran, each with the expected result and enforcement.
    assert.deepEqual(
      Object.fromEntries(checks.map((c) => [c.id, { result: c.result, enforcement: c.enforcement }])),
      EXPECTED,
      table,
    );

    // On real evidence: the signature over this digest, the attested SBOM (its digest), the feeds' coverage.
    approved = r;
    const byId = new Map(checks.map((c) => [c.id, c]));
    assert.match(byId.get('signature.valid')?.message ?? '', /cra-gate/);
    assert.equal(byId.get('signature.valid')?.evidence, digest, 'the signature was verified over the pushed digest');
    for (const id of ['sbom.present', 'sbom.format-valid', 'sbom.top-level-deps', 'sbom.per-version']) {
      assert.equal(byId.get(id)?.evidence, attestedSbomDigest, `${id} rests on the attested SBOM`);
    }
    assert.match(byId.get('artifact.hash-matches-sbom')?.message ?? '', /bound by the signed attestation subject/);
    const coverage = r.status?.vulnerabilityCoverage;
    assert.ok(coverage && coverage.total > 50 && coverage.assessed === coverage.total, `every npm component assessed: ${JSON.stringify(coverage)}`);
    // The guideline findings are reported (warned), with the BSI TR-03183-2 section they rest on.
    const fields = byId.get('sbom.bsi-tr-03183-fields');
    assert.equal(fields?.basis, 'Guidance');
    assert.match(fields?.message ?? '', /SBOM creator|creator/);
  });

  it('the CLI (no cluster) gives the same verdict from files: the key Secret and the ConfigMaps as manifests', async () => {
    assert.ok(approved, 'the operator approved the release');
    const dir = path.join(work, 'cli');
    mkdirSync(dir, { recursive: true });
    const name = `cra-gate-${VERSION}`;
    writeFileSync(path.join(dir, 'release.yaml'), JSON.stringify(releaseFromExample(name, `${reg.host}/cra-gate/cra-gate@${digest}`)));
    writeFileSync(path.join(dir, 'evidence.yaml'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...keyAndFeeds().items, defaultsConfigMap()] }));
    const host = new URL(origin).host;
    const r = await run(process.execPath, [path.join(repoRoot, 'bin', 'cra-gate.mjs'), 'evaluate', 'release.yaml', 'evidence.yaml', '--policy', path.join(repoRoot, 'policies', 'cra-baseline.yaml'), '--output', 'json'], {
      cwd: dir,
      timeoutMs: 300_000,
      env: { ...process.env, CRA_GATE_REGISTRY_ALLOW_HOSTS: '127.0.0.1', CRA_GATE_REGISTRY_INSECURE_HOSTS: reg.host, CRA_GATE_HTTP_ALLOW_HOSTS: host, CRA_GATE_HTTP_CA_FILE: path.join(work, 'cert.pem') },
    });
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(0, 4000)}`);
    const out = JSON.parse(r.stdout) as { items: { status: NonNullable<ProductRelease['status']> }[] };
    const cli = out.items[0]!.status;
    assert.equal(cli.decision, 'Approved');
    const pick = (s: NonNullable<ProductRelease['status']>) => (s.checks ?? []).map((c) => ({ id: c.id, result: c.result, reason: c.reason, evidence: c.evidence }));
    assert.deepEqual(pick(cli), pick(approved.status!), 'operator and CLI: the same results, reasons and evidence digests');
    assert.deepEqual(cli.vulnerabilityCoverage, approved.status!.vulnerabilityCoverage);
  });

  it('the same release with its SBOM attested by another key is Blocked', async () => {
    assert.ok(ns, 'the positive case ran');
    const name = `cra-gate-${VERSION}-foreign-sbom`;
    await cluster.apply(releaseFromExample(name, `${reg.host}/cra-gate/cra-gate-foreign-sbom@${digest}`));
    const r = await waitForDecision(cluster, ns, name, (x) => x.status?.decision !== 'Pending', 180_000);
    const checks = r.status?.checks ?? [];
    const table = checks.map((c) => `${c.id} ${c.result} ${c.reason ?? ''}: ${c.message ?? ''}`).join('\n');
    assert.equal(r.status?.decision, 'Blocked', table);
    const byId = new Map(checks.map((c) => [c.id, c]));
    // The image signature is trusted; the SBOM attestation is not, so no SBOM describes the image.
    assert.equal(byId.get('signature.valid')?.result, 'Pass', table);
    assert.equal(byId.get('sbom.present')?.result, 'Fail', table);
    assert.equal(byId.get('sbom.present')?.reason, 'SbomMissing', table);
    assert.match(byId.get('sbom.present')?.message ?? '', /SBOM attestation\(s\) rejected: UntrustedSigner/, 'the status says why the attached SBOM did not count');
    assert.equal(byId.get('artifact.hash-matches-sbom')?.result, 'Fail', table);
  });
});
