import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProductRelease } from '../api/types.ts';
import { vulnNoKnownExploitable } from '../checks/vuln.ts';
import { ctx } from '../checks/testkit.ts';
import type { Evidence } from '../checks/types.ts';
import { OsvIndex } from '../vuln/match.ts';
import { parseOsvFeed } from '../vuln/osv.ts';
import { externalBomRefs, parseBomLink } from '../vuln/bomref.ts';
import type { CollectContext } from './collect.ts';
import { makeSbomCollector } from './sbom.ts';
import { createEvidenceRuntime } from './runtime.ts';

const osv = parseOsvFeed(readFileSync(new URL('../../test/fixtures/vuln/osv/GHSA-jfh8-c2jp-5v3q.json', import.meta.url)));
const MAIN_SERIAL = 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79';

const bom = (serial: string, components: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: serial, version: 1,
    metadata: { timestamp: '2028-01-01T00:00:00Z', component: { type: 'firmware', name: 'fw', version: '1.0', 'bom-ref': 'fw', ...extra } },
    components,
  });

describe('external BOM references (pure)', () => {
  it('finds type=bom references on the metadata component and nested components; parses BOM-Links', () => {
    const doc = JSON.parse(bom(MAIN_SERIAL, [{ type: 'library', name: 'a', components: [{ type: 'library', name: 'b', externalReferences: [{ type: 'bom', url: 'https://x.example/b.cdx.json' }, { type: 'website', url: 'https://x' }] }] }], {
      externalReferences: [{ type: 'bom', url: 'urn:cdx:f08a6ccd-4dce-4759-bd84-c626675d60a7/2#lib' }],
    })) as unknown;
    const { refs } = externalBomRefs(doc);
    assert.deepEqual(refs.map((r) => [r.pointer, r.kind]), [
      ['/metadata/component/externalReferences/0', 'bom-link'],
      ['/components/0/components/0/externalReferences/0', 'location'],
    ]);
    assert.deepEqual(parseBomLink('urn:cdx:F08A6CCD-4dce-4759-bd84-c626675d60a7/2#lib'), { serialNumber: 'urn:uuid:f08a6ccd-4dce-4759-bd84-c626675d60a7', version: 2 });
    assert.equal(parseBomLink('urn:cdx:nope/1'), undefined);
    assert.deepEqual(externalBomRefs({ spdxVersion: 'SPDX-2.3' }).refs, []);
  });
});

describe('external BOM references fetched over HTTPS and assessed like the main SBOM', () => {
  let dir = '';
  let server: Server;
  let host = '';
  let ca = '';
  const docs: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cra-bomref-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
      const body = docs[req.url ?? ''];
      if (body === undefined) return res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': 'application/vnd.cyclonedx+json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The referenced BOM: a Java library shipping log4j-core 2.14.1 (Log4Shell).
    docs['/java-lib.cdx.json'] = bom('urn:uuid:0b6fd1f9-1f3c-4a4c-9d77-1f4e2fb7e2a1', [
      { type: 'library', name: 'log4j-core', 'bom-ref': 'log4j-core', version: '2.14.1', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' },
    ]);
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function collect(mainBom: string): Promise<Evidence> {
    const release = {
      apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name: 'r', namespace: 'ns' },
      spec: { product: { name: 'p' }, version: '1.0', sboms: [{ artifact: 'fw', configMapRef: { name: 'sbom', key: 'bom.json' } }] },
    } as unknown as ProductRelease;
    const collector = makeSbomCollector({ fetchOptions: { allowHosts: [host], ca } });
    const runtime = createEvidenceRuntime({ network: 'allow' });
    const c = { release, runtime, sources: { readConfigMap: () => Promise.resolve({ 'bom.json': mainBom }) } } as unknown as CollectContext;
    const got = (await collector(c)) as Evidence;
    return {
      ...got,
      vulnFeeds: { feeds: [{ kind: 'osv', source: 'osv', digest: 'sha256:a', records: 1 }], index: new OsvIndex(osv), kev: [], vex: [], vexSet: { documents: [] } },
    };
  }
  const lib = { type: 'library', name: 'java-lib', 'bom-ref': 'java-lib', version: '1.0.0', purl: 'pkg:maven/com.acme/java-lib@1.0.0' };
  const run = (ev: Evidence) => vulnNoKnownExploitable.run(ctx({ apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name: 'r' }, spec: { product: { name: 'p' }, version: '1.0' } } as unknown as ProductRelease, {}, new Date('2028-02-01T00:00:00Z'), ev));

  it('a https:// reference is fetched, and its Log4Shell found', async () => {
    const ev = await collect(bom(MAIN_SERIAL, [{ ...lib, externalReferences: [{ type: 'bom', url: `https://${host}/java-lib.cdx.json` }] }]));
    assert.equal(ev.referencedSboms?.length, 1);
    const out = run(ev);
    assert.deepEqual([out.result, out.reason], ['Fail', 'KnownVulnerability']);
    assert.match(out.message, /GHSA-jfh8-c2jp-5v3q \(CVE-2021-44228\) in pkg:maven\/org\.apache\.logging\.log4j\/log4j-core@2\.14\.1/);
  });
  it('an unreachable reference makes the check end in Error naming it', async () => {
    const ev = await collect(bom(MAIN_SERIAL, [{ ...lib, externalReferences: [{ type: 'bom', url: `https://${host}/missing.cdx.json` }] }]));
    const out = run(ev);
    assert.equal(out.result, 'Error');
    assert.match(out.message, new RegExp(`https://${host.replace('.', '\\.')}/missing\\.cdx\\.json \\(external BOM reference at ConfigMap ns/sbom key bom\\.json /components/0/externalReferences/0\\)`));
    const http = run(await collect(bom(MAIN_SERIAL, [{ ...lib, externalReferences: [{ type: 'bom', url: 'http://example.com/b.json' }] }])));
    assert.equal(http.result, 'Error');
    assert.match(http.message, /only https:\/\/ BOM references can be fetched/);
  });
  it('a BOM-Link must name one of the release\'s BOMs', async () => {
    const self = `urn:cdx:${MAIN_SERIAL.slice(9)}/1#java-lib`;
    const ok = run(await collect(bom(MAIN_SERIAL, [{ ...lib, externalReferences: [{ type: 'bom', url: self }] }])));
    assert.notEqual(ok.result, 'Error', ok.message);
    const other = run(await collect(bom(MAIN_SERIAL, [{ ...lib, externalReferences: [{ type: 'bom', url: 'urn:cdx:f08a6ccd-4dce-4759-bd84-c626675d60a7/1' }] }])));
    assert.equal(other.result, 'Error');
    assert.match(other.message, /BOM-Link names BOM urn:uuid:f08a6ccd-4dce-4759-bd84-c626675d60a7 version 1, which is not among the release's SBOMs/);
  });
});
