/**
 * `node bench/oci.ts [images]` — registry evidence for N images (default 200), each with a cosign v3 bundle
 * signature and a CycloneDX SBOM attestation made by real cosign on a real registry (loopback):
 *
 * 1. cra-gate: discover + verify signature and attestation + analyse the SBOM per image (8 in flight),
 *    cold cache: total wall time, per-image p50/p99.
 * 2. Re-evaluation with the shared digest cache warm: wall time and cache hit ratio.
 * 3. In the same run, against the same registry: `cosign verify` + `cosign verify-attestation` per image
 *    (sequential processes, as a pipeline would run them): per-image p50/p99, total, and the ratio.
 *
 * Writes its section of docs/benchmarks.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { DigestCache } from '../operator/evidence/oci/cache.ts';
import { RegistryClient } from '../operator/evidence/oci/client.ts';
import { verifyImage } from '../operator/evidence/signatures.ts';
import { makeSbomAnalyser } from '../operator/evidence/sbom.ts';
import { DEFAULT_LIMITS } from '../operator/sbom/parse.ts';
import { parsePublicKey } from '../operator/sigstore/verify.ts';
import { Cosign } from '../test/harness/cosign.ts';
import { Pusher, startRegistry } from '../test/harness/registry.ts';
import { cyclonedxFor } from '../test/fixtures/oci/sbom.ts';
import { percentile } from './lib/measure.ts';

const N = Number(process.argv[2] ?? 200);
const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'cra-gate-bench-oci-'));
const reg = await startRegistry();
const ms = (n: number) => `${n.toFixed(1)} ms`;
const log = (s: string) => process.stderr.write(`[bench:oci] ${s}\n`);

try {
  const cosign = new Cosign({ workDir: join(work, 'cosign'), registry: reg, timeoutMs: 120_000 });
  const key = await cosign.generateKeyPair('bench');
  const push = new Pusher(reg);
  const refs: string[] = [];
  const t0 = performance.now();
  // Setup (not measured): N images, each signed and attested by real cosign, 4 at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < N) {
        const i = next++;
        const name = `img${i}`;
        const digest = await push.image(`bench/${name}`, 'v1');
        const ref = `${reg.host}/bench/${name}@${digest}`;
        const f = join(work, `${name}.cdx.json`);
        writeFileSync(f, JSON.stringify(cyclonedxFor(name, digest)));
        await cosign.sign(ref, key);
        await cosign.attest(ref, key, f, 'cyclonedx');
        refs[i] = ref;
        if ((i + 1) % 25 === 0) log(`setup: ${i + 1}/${N} images signed and attested`);
      }
    }),
  );
  log(`setup took ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  const trust = { keys: [parsePublicKey(key.pubPem, 'bench key')], keyless: [] };
  const cache = new DigestCache(256 * 1024 * 1024);
  const client = new RegistryClient({ network: 'allow', allowHosts: ['127.0.0.1'], insecureHosts: [reg.host], cache });
  const analyser = makeSbomAnalyser();

  async function pass(label: string): Promise<{ wall: number; per: number[] }> {
    const per: number[] = new Array<number>(N);
    let k = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (k < N) {
          const i = k++;
          const s = performance.now();
          const r = await verifyImage(client, `img${i}`, refs[i]!, trust, (b) => analyser(b, DEFAULT_LIMITS));
          per[i] = performance.now() - s;
          if (r.evidence.verified.length !== 1 || r.sboms.length !== 1 || !r.sboms[0]!.analysis.ok) throw new Error(`${label}: image ${i} did not verify: ${JSON.stringify(r.evidence)}`);
        }
      }),
    );
    return { wall: performance.now() - start, per };
  }

  const cold = await pass('cold');
  log(`cra-gate cold: ${ms(cold.wall)}`);
  const h0 = cache.hits;
  const m0 = cache.misses;
  const warm = await pass('warm');
  const hits = cache.hits - h0;
  const misses = cache.misses - m0;
  log(`cra-gate warm: ${ms(warm.wall)}, cache hits ${hits}/${hits + misses}`);
  const requestsWarm = client.stats.requests;
  client.close();

  const cos: number[] = [];
  const cstart = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await cosign.verify(refs[i]!, key);
    await cosign.verifyAttestation(refs[i]!, key, 'cyclonedx');
    cos.push(performance.now() - s);
    if ((i + 1) % 50 === 0) log(`cosign: ${i + 1}/${N}`);
  }
  const cwall = performance.now() - cstart;

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const ver = readFileSync(join(root, '.cache/tools/bin/.cosign.version'), 'utf8').trim();
  const date = new Date().toISOString().slice(0, 10);
  const section = `<!-- bench:oci -->
## OCI evidence: signatures and SBOM attestations for ${N} images

\`node bench/oci.ts\` — ${N} images on a local CNCF distribution registry (plain http, loopback), each signed with
\`cosign sign\` (v3 Sigstore bundle, ECDSA P-256 key, as an OCI referrer through the tag-schema fallback) and attested with
\`cosign attest --type cyclonedx\`. cra-gate resolves, discovers (cosign tags + referrers), verifies the signature and the
attestation with @sigstore/verify, checks the signed digests and analyses the SBOM (schema + model), 8 images in flight.
cosign ${ver} runs \`cosign verify\` + \`cosign verify-attestation\` per image (\`--insecure-ignore-tlog\`, key-based),
one image after another, against the same registry in the same run.

| | total wall time | per image p50 | per image p99 |
|---|---:|---:|---:|
| cra-gate, cold cache | ${ms(cold.wall)} | ${ms(percentile(cold.per, 50))} | ${ms(percentile(cold.per, 99))} |
| cra-gate, re-evaluation (warm digest cache) | ${ms(warm.wall)} | ${ms(percentile(warm.per, 50))} | ${ms(percentile(warm.per, 99))} |
| cosign verify + verify-attestation | ${ms(cwall)} | ${ms(percentile(cos, 50))} | ${ms(percentile(cos, 99))} |

Ratio (cosign total / cra-gate cold total): **${(cwall / cold.wall).toFixed(1)}×**; per image p50: ${(percentile(cos, 50) / percentile(cold.per, 50)).toFixed(1)}×
(cra-gate's per-image latency includes waiting for its 8 concurrent peers).
Re-evaluation cache hit ratio: **${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} %** (${hits} of ${hits + misses} manifest/blob reads by digest;
tag and referrer lookups are mutable and always go to the registry: ${requestsWarm} HTTP requests over both passes).

Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; load average ${loadavg()[0]!.toFixed(2)} at the end. Measured ${date}.
<!-- /bench:oci -->`;
  const doc = join(root, 'docs/benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const re = /<!-- bench:oci -->[\s\S]*?<!-- \/bench:oci -->/;
  writeFileSync(doc, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
  console.log(section);
} finally {
  await reg.stop();
  rmSync(work, { recursive: true, force: true });
}
