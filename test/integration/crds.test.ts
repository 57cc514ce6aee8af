// The API contract, enforced by a real kube-apiserver: the CRDs install and become Established, `kubectl explain`
// teaches the fields, the examples and the baseline policy are accepted, and malformed ProductReleases and
// ReleasePolicies are rejected with an error that names the offending field.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { D256, policyFixture, policySpecs, releaseFixture, type Obj } from '../fixtures/releases.ts';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.ts';
import { waitFor } from '../harness/wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const repo = (p: string): string => path.join(repoRoot, p);

// Test fixtures are mutated freely by the table below.
function release(): Obj {
  return releaseFixture('full', 'crd-test', 'probe');
}

function policy(): Obj {
  return policyFixture(policySpecs.full(), 'probe');
}

interface Case {
  name: string;
  base: () => Obj;
  mutate: (o: Obj) => void;
  /** Every pattern must appear in kubectl's error output. The first names the offending field. */
  expect: RegExp[];
}

const prel = release;
const rpol = policy;

const rejected: Case[] = [
  {
    name: 'missing version',
    base: prel,
    mutate: (o) => delete o.spec.version,
    expect: [/spec\.version: Required value/],
  },
  {
    name: 'empty version',
    base: prel,
    mutate: (o) => (o.spec.version = ''),
    expect: [/spec\.version/],
  },
  {
    name: 'missing product name',
    base: prel,
    mutate: (o) => delete o.spec.product.name,
    expect: [/spec\.product\.name: Required value/],
  },
  {
    name: 'artifact with both image and url',
    base: prel,
    mutate: (o) => (o.spec.artifacts[1].image = 'registry.acme.example/fw:1.0'),
    expect: [/spec\.artifacts\[1\]/, /exactly one of image or url/],
  },
  {
    name: 'artifact with neither image nor url',
    base: prel,
    mutate: (o) => (o.spec.artifacts[0] = { name: 'router' }),
    expect: [/spec\.artifacts\[0\]/, /exactly one of image or url/],
  },
  {
    name: 'plain http update channel',
    base: prel,
    mutate: (o) => (o.spec.updates.channel = 'http://updates.acme.example/router/stable.json'),
    expect: [/spec\.updates\.channel/, /\^https:/],
  },
  {
    name: 'plain http artifact url',
    base: prel,
    mutate: (o) => (o.spec.artifacts[1].url = 'http://downloads.acme.example/fw.bin'),
    expect: [/spec\.artifacts\[1\]\.url/],
  },
  {
    name: 'url artifact without digest',
    base: prel,
    mutate: (o) => delete o.spec.artifacts[1].digest,
    expect: [/spec\.artifacts\[1\]\.digest: Required value/, /digest is required when url is set/],
  },
  {
    name: 'malformed digest',
    base: prel,
    mutate: (o) => (o.spec.artifacts[1].digest = 'sha256:xyz'),
    expect: [/spec\.artifacts\[1\]\.digest/],
  },
  {
    name: 'digest that disagrees with the image digest',
    base: prel,
    mutate: (o) => (o.spec.artifacts[0].digest = `sha256:${'c'.repeat(64)}`),
    expect: [/spec\.artifacts\[0\]\.digest/, /does not match the digest in image/],
  },
  {
    name: 'image neither tagged nor pinned by digest',
    base: prel,
    mutate: (o) => (o.spec.artifacts[0].image = 'registry.acme.example/router'),
    expect: [/spec\.artifacts\[0\]\.image/],
  },
  {
    name: 'duplicate artifact name',
    base: prel,
    mutate: (o) => (o.spec.artifacts[1].name = 'router'),
    expect: [/spec\.artifacts\[1\]: Duplicate value/],
  },
  {
    name: 'unknown field',
    base: prel,
    mutate: (o) => (o.spec.supportPeriod = '5y'),
    expect: [/unknown field "spec\.supportPeriod"/],
  },
  {
    name: 'placedOnMarket with month 13',
    base: prel,
    mutate: (o) => (o.spec.placedOnMarket = '2028-13-01'),
    expect: [/spec\.placedOnMarket/],
  },
  {
    name: 'placedOnMarket on 30 February',
    base: prel,
    mutate: (o) => (o.spec.placedOnMarket = '2028-02-30'),
    expect: [/spec\.placedOnMarket/],
  },
  {
    name: 'supportEnd with month 13',
    base: prel,
    mutate: (o) => (o.spec.updates.supportEnd = '2033-13'),
    expect: [/spec\.updates\.supportEnd/],
  },
  {
    name: 'supportEnd on 29 February of a common year',
    base: prel,
    mutate: (o) => (o.spec.updates.supportEnd = '2033-02-29'),
    expect: [/spec\.updates\.supportEnd/, /not a valid calendar date/],
  },
  {
    name: 'supportEnd as a duration',
    base: prel,
    mutate: (o) => (o.spec.updates.supportEnd = '5y'),
    expect: [/spec\.updates\.supportEnd/],
  },
  {
    name: 'sbom referencing an unknown artifact',
    base: prel,
    mutate: (o) => (o.spec.sboms[0].artifact = 'ghost'),
    expect: [/spec\.sboms/, /must name an artifact of this release/],
  },
  {
    name: 'sbom with both url and configMapRef',
    base: prel,
    mutate: (o) => (o.spec.sboms[1].url = 'https://acme.example/sbom.json'),
    expect: [/spec\.sboms\[1\]/, /exactly one of url or configMapRef/],
  },
  {
    name: 'sbom configMapRef without key',
    base: prel,
    mutate: (o) => delete o.spec.sboms[1].configMapRef.key,
    expect: [/spec\.sboms\[1\]\.configMapRef\.key: Required value/],
  },
  {
    name: 'secure-defaults source with neither url nor configMapRef',
    base: prel,
    mutate: (o) => (o.spec.secureDefaults.settings = {}),
    expect: [/spec\.secureDefaults\.settings/, /exactly one of url or configMapRef/],
  },
  {
    name: 'vex digest without url',
    base: prel,
    mutate: (o) => (o.spec.vulnerabilityHandling.vex = { configMapRef: { name: 'vex' }, digest: D256 }),
    expect: [/spec\.vulnerabilityHandling\.vex\.digest: Forbidden/],
  },
  {
    name: 'expectedUsePeriod without rationale',
    base: prel,
    mutate: (o) => (o.spec.updates.expectedUsePeriod = { months: 24 }),
    expect: [/spec\.updates\.expectedUsePeriod\.rationale: Required value/],
  },
  {
    name: 'expectedUsePeriod of zero months',
    base: prel,
    mutate: (o) => (o.spec.updates.expectedUsePeriod = { months: 0, rationale: 'short-lived promotional device' }),
    expect: [/spec\.updates\.expectedUsePeriod\.months/],
  },
  {
    name: 'automatic that is not a boolean',
    base: prel,
    mutate: (o) => (o.spec.updates.automatic = 'yes'),
    expect: [/spec\.updates\.automatic/],
  },
  {
    name: 'contact that is neither mailto: nor https:',
    base: prel,
    mutate: (o) => (o.spec.vulnerabilityHandling.contact = 'psirt@acme.example'),
    expect: [/spec\.vulnerabilityHandling\.contact/],
  },
  {
    name: 'malformed manufacturer email',
    base: prel,
    mutate: (o) => (o.spec.product.manufacturer.email = 'psirt at acme'),
    expect: [/spec\.product\.manufacturer\.email/],
  },
  {
    name: 'http manufacturer url',
    base: prel,
    mutate: (o) => (o.spec.product.manufacturer.url = 'http://acme.example'),
    expect: [/spec\.product\.manufacturer\.url/],
  },
  {
    name: 'policy: duplicate check id',
    base: rpol,
    mutate: (o) => void o.spec.checks.push({ id: 'sbom.present', enforcement: 'Warn' }),
    expect: [/spec\.checks\[3\]: Duplicate value/, /sbom\.present/],
  },
  {
    name: 'policy: bad enforcement value',
    base: rpol,
    mutate: (o) => (o.spec.checks[0].enforcement = 'Strict'),
    expect: [/spec\.checks\[0\]\.enforcement: Unsupported value: "Strict"/],
  },
  {
    name: 'policy: malformed check id',
    base: rpol,
    mutate: (o) => (o.spec.checks[0].id = 'SBOM present'),
    expect: [/spec\.checks\[0\]\.id/],
  },
  {
    name: 'policy: no checks',
    base: rpol,
    mutate: (o) => (o.spec.checks = []),
    expect: [/spec\.checks/],
  },
  {
    name: 'policy: effectiveFrom not a date',
    base: rpol,
    mutate: (o) => (o.spec.checks[1].effectiveFrom = '2026-09-31'),
    expect: [/spec\.checks\[1\]\.effectiveFrom/],
  },
  {
    name: 'policy: bad duration',
    base: rpol,
    mutate: (o) => (o.spec.reevaluateEvery = '6 hours'),
    expect: [/spec\.reevaluateEvery/],
  },
  {
    name: 'policy: re-evaluation more often than every minute',
    base: rpol,
    mutate: (o) => (o.spec.reevaluateEvery = '30s'),
    expect: [/spec\.reevaluateEvery/, /at least 1m/],
  },
  {
    name: 'policy: waiver missing justification',
    base: rpol,
    mutate: (o) => delete o.spec.waivers[0].justification,
    expect: [/spec\.waivers\[0\]\.justification: Required value/],
  },
  {
    name: 'policy: waiver missing expiry',
    base: rpol,
    mutate: (o) => delete o.spec.waivers[0].expires,
    expect: [/spec\.waivers\[0\]\.expires: Required value/],
  },
  {
    name: 'policy: vuln.* waiver naming no vulnerability (blanket)',
    base: rpol,
    mutate: (o) => delete o.spec.waivers[0].vulnerability,
    expect: [/spec\.waivers\[0\]\.vulnerability: Required value: a waiver of a vuln\.\* check must name the vulnerability it covers/],
  },
  {
    name: 'policy: vuln.* waiver naming only a package',
    base: rpol,
    mutate: (o) => {
      delete o.spec.waivers[0].vulnerability;
      o.spec.waivers[0].check = 'vuln.no-known-exploited';
    },
    expect: [/spec\.waivers\[0\]\.vulnerability: Required value: .*blanket waivers of vulnerability checks are not allowed/],
  },
  {
    name: 'policy: waiver label selector In without values',
    base: rpol,
    mutate: (o) => (o.spec.waivers[0].releases.matchExpressions[0].values = []),
    expect: [/spec\.waivers\[0\]\.releases\.matchExpressions\[0\]\.values/],
  },
  {
    name: 'policy: non-https keyless issuer',
    base: rpol,
    mutate: (o) => (o.spec.signing.keyless[0].issuer = 'http://issuer.example'),
    expect: [/spec\.signing\.keyless\[0\]\.issuer/],
  },
  {
    name: 'policy: keyless identity with both subject and subjectRegExp',
    base: rpol,
    mutate: (o) => (o.spec.signing.keyless[0].subject = 'https://github.com/acme/x'),
    expect: [/spec\.signing\.keyless\[0\]/, /exactly one of subject or subjectRegExp/],
  },
  {
    name: 'policy: key secretRef without namespace',
    base: rpol,
    mutate: (o) => delete o.spec.signing.keys[0].secretRef.namespace,
    expect: [/spec\.signing\.keys\[0\]\.secretRef\.namespace: Required value/],
  },
  {
    name: 'policy: feed with both osv and kev',
    base: rpol,
    mutate: (o) => (o.spec.vulnerabilityFeeds[0].kev = { url: 'https://feeds.example/kev.json' }),
    expect: [/spec\.vulnerabilityFeeds\[0\]/, /exactly one of osv, nvd or kev/],
  },
  {
    name: 'policy: feed with both nvd and osv',
    base: rpol,
    mutate: (o) => (o.spec.vulnerabilityFeeds[1].osv = { configMapRef: { namespace: 'cra-gate', name: 'osv-feed' } }),
    expect: [/spec\.vulnerabilityFeeds\[1\]/, /exactly one of osv, nvd or kev/],
  },
  {
    name: 'policy: nvd feed with two sources',
    base: rpol,
    mutate: (o) => (o.spec.vulnerabilityFeeds[1].nvd.oci = 'registry.example/feeds/nvd:latest'),
    expect: [/spec\.vulnerabilityFeeds\[1\]\.nvd/, /exactly one of url or configMapRef or oci/],
  },
];

async function createDryRun(cp: ControlPlane, obj: Obj): Promise<{ code: number; stdout: string; stderr: string }> {
  return cp.kubectl(['create', '--dry-run=server', '--validate=strict', '-o', 'name', '-f', '-'], {
    input: JSON.stringify(obj),
  });
}

void describe('CRDs on a real kube-apiserver', { timeout: 300_000 }, () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await startControlPlane();
    const applied = await cp.kubectl(['apply', '-f', repo('crds/')]);
    assert.equal(applied.code, 0, `kubectl apply -f crds/ failed:\n${applied.stderr}`);
    const established = await cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/productreleases.cra-gate.dev',
      'crd/releasepolicies.cra-gate.dev',
    ]);
    assert.equal(established.code, 0, established.stderr);
    const ns = await cp.kubectl(['create', 'namespace', 'crd-test']);
    assert.equal(ns.code, 0, ns.stderr);
    // The OpenAPI document `kubectl explain` reads is published a moment after the CRDs are Established.
    for (const kind of ['productrelease', 'releasepolicy']) {
      await waitFor(
        `OpenAPI schema of ${kind} published`,
        async () => (await cp.kubectl(['explain', kind])).code === 0,
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    }
  });

  after(async () => {
    await cp?.stop();
  });

  void it('installs both CRDs, Established, with short names and the cra-gate category', async () => {
    const res = await cp.kubectl(['api-resources', '--api-group=cra-gate.dev', '-o', 'wide']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /productreleases\s+prel\s+cra-gate\.dev\/v1alpha1\s+true\s+ProductRelease/);
    assert.match(res.stdout, /releasepolicies\s+rpol\s+cra-gate\.dev\/v1alpha1\s+false\s+ReleasePolicy/);
    assert.match(res.stdout, /cra-gate/);
  });

  void it('kubectl explain teaches the artifacts field and its items', async () => {
    const res = await cp.kubectl(['explain', 'productrelease.spec.artifacts']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /container images and downloadable files/);
    assert.match(res.stdout, /digest\s+<string>/);
    assert.match(res.stdout, /OCI image reference, pinned by tag or \(preferably\) digest/);
    assert.match(res.stdout, /name\s+<string> -required-/);
  });

  void it('serves a description for every field of both kinds (what kubectl explain shows)', async () => {
    const res = await cp.kubectl(['get', '--raw', '/openapi/v3/apis/cra-gate.dev/v1alpha1']);
    assert.equal(res.code, 0, res.stderr);
    const schemas = JSON.parse(res.stdout).components.schemas as Record<string, Obj>;
    const undocumented: string[] = [];
    let fields = 0;
    const walk = (node: Obj, where: string): void => {
      for (const [name, prop] of Object.entries((node.properties ?? {}) as Record<string, Obj>)) {
        fields++;
        if (typeof prop.description !== 'string' || prop.description.length < 10) undocumented.push(`${where}.${name}`);
        if (prop.$ref === undefined && prop.allOf === undefined) walk(prop, `${where}.${name}`);
      }
      if (node.items) walk(node.items as Obj, `${where}[]`);
    };
    for (const kind of ['ProductRelease', 'ReleasePolicy']) {
      const schema = schemas[`dev.cra-gate.v1alpha1.${kind}`];
      assert.ok(schema, `${kind} missing from the served OpenAPI document`);
      walk(schema, kind);
    }
    assert.ok(fields > 100, `only ${fields} fields`);
    assert.deepEqual(undocumented, []);
    // spot checks: CRA references reach kubectl explain
    const support = await cp.kubectl(['explain', 'productrelease.spec.updates.supportEnd']);
    assert.match(support.stdout, /Art\.\s+13\(8\)/);
    const eff = await cp.kubectl(['explain', 'releasepolicy.spec.checks.effectiveFrom']);
    assert.match(eff.stdout, /before\s+it\s+the\s+check\s+only\s+warns/);
  });

  void it('accepts the examples, the baseline policy and a release and policy using every field', async () => {
    // the whole directory applies on a fresh cluster (each example carries its namespace)
    for (const f of ['examples/', 'policies/cra-baseline.yaml']) {
      const res = await cp.kubectl(['apply', '--validate=strict', '-f', repo(f)]);
      assert.equal(res.code, 0, `${f} rejected:\n${res.stderr}`);
    }
    for (const obj of [release(), policy()]) {
      const res = await createDryRun(cp, obj);
      assert.equal(res.code, 0, `${obj.kind as string} rejected:\n${res.stderr}`);
    }
    const leap = release();
    leap.spec.updates.supportEnd = '2032-02-29';
    leap.spec.updates.expectedUsePeriod = { months: 36, rationale: 'a promotional device used for one season' };
    leap.spec.artifacts[0].image = 'localhost:5000/acme/router:2.4.0';
    const res = await createDryRun(cp, leap);
    assert.equal(res.code, 0, `leap-day release rejected:\n${res.stderr}`);
  });

  void it('defaults a check enforcement to Block', async () => {
    const p = policy();
    p.spec.checks = [{ id: 'sbom.present' }];
    const res = await cp.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(p) });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).spec.checks[0].enforcement, 'Block');
  });

  void it('shows product, version, decision and failed count as printer columns', async () => {
    const res = await cp.kubectl(['get', 'prel', '-n', 'acme']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^NAME\s+PRODUCT\s+VERSION\s+DECISION\s+FAILED\s+AGE$/m);
    assert.match(res.stdout, /^acme-router-2\.4\.0\s+acme-router\s+2\.4\.0\s/m);
    const pol = await cp.kubectl(['get', 'rpol']);
    assert.match(pol.stdout, /^cra-baseline\s+6h\s/m);
  });

  void it('keeps status out of spec writes (status subresource)', async () => {
    const r = release();
    r.metadata.name = 'status-probe';
    r.status = { decision: 'Approved' };
    const res = await cp.kubectl(['create', '-o', 'json', '-f', '-'], { input: JSON.stringify(r) });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).status, undefined);
  });

  // uses status-probe, created by the previous test (tests in this suite run in order)
  void it('accepts the status the operator writes, shows it in the printer columns, rejects a bad one', async () => {
    const status = {
      observedGeneration: 1,
      decision: 'Blocked',
      conditions: [
        {
          type: 'Approved',
          status: 'False',
          observedGeneration: 1,
          lastTransitionTime: '2028-01-15T10:00:00Z',
          reason: 'PolicyViolation',
          message: '2 blocking checks failed',
        },
      ],
      checks: [
        {
          id: 'update.support-period',
          result: 'Fail',
          enforcement: 'Block',
          reason: 'SupportPeriodTooShort',
          message: 'support 24 months is below the 60-month minimum',
          cra: ['Art. 13(8)', 'Annex II(7)'],
          evidence: 'spec.updates.supportEnd=2030-02',
        },
        { id: 'cra.applicability', result: 'Pass', enforcement: 'Block', cra: ['Art. 71'] },
      ],
      summary: { passed: 1, failed: 2, warned: 0, waived: 0, errored: 0, skipped: 0 },
      policy: { name: 'cra-baseline', generation: 4 },
      evaluatedAt: '2028-01-15T10:00:00Z',
    };
    const patch = (st: unknown) =>
      cp.kubectl([
        'patch', 'prel', 'status-probe', '-n', 'crd-test', '--subresource=status', '--type=merge',
        '-p', JSON.stringify({ status: st }),
      ]);
    const ok = await patch(status);
    assert.equal(ok.code, 0, ok.stderr);
    const get = await cp.kubectl(['get', 'prel', 'status-probe', '-n', 'crd-test']);
    assert.match(get.stdout, /^status-probe\s+acme-router\s+2\.4\.0\s+Blocked\s+2\s/m);
    const bad = await patch({ decision: 'Maybe' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /status\.decision: Unsupported value: "Maybe"/);
    const badCheck = await patch({ ...status, checks: [{ id: 'x.y', result: 'Passed', enforcement: 'Block' }] });
    assert.match(badCheck.stderr, /status\.checks\[0\]\.result: Unsupported value: "Passed"/);
  });

  void describe(`rejects ${rejected.length} kinds of malformed objects, naming the field`, () => {
    for (const c of rejected) {
      void it(c.name, async (t) => {
        const obj = c.base();
        c.mutate(obj);
        const res = await createDryRun(cp, obj);
        assert.notEqual(res.code, 0, `accepted, expected a rejection:\n${res.stdout}`);
        t.diagnostic(res.stderr.trim());
        for (const re of c.expect) assert.match(res.stderr, re);
      });
    }
  });
});
