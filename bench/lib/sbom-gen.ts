/**
 * Generated CycloneDX 1.6 SBOMs for the SBOM benchmark (bench/sbom.ts) and the findings-stability test
 * (operator/sbom/stability.test.ts): every BSI TR-03183-2 v2.1.0 field present, a dependency tree, n components.
 */

/**
 * A CycloneDX 1.6 JSON SBOM with `n` components (deterministic): compliant, or with `defects` a mix of problems in
 * some components (missing hash, licence, filename or version, licence names and bad expressions, a dangling
 * dependency) so that every rule has findings to report at scale.
 */
export function generate(n: number, opts: { defects?: boolean } = {}): string {
  const comps = [];
  const deps = [];
  const h = (i: number, c: string) => (i.toString(16).padStart(8, '0') + c.repeat(120)).slice(0, 128);
  for (let i = 0; i < n; i++) {
    const ref = `pkg-${i}`;
    comps.push({
      type: 'library', 'bom-ref': ref, name: `pkg-${i}`, version: `1.${i % 50}.${i % 7}`,
      manufacturer: { name: `Maker ${i % 100}`, url: [`https://maker${i % 100}.example`] },
      supplier: { name: `Maker ${i % 100}` }, purl: `pkg:npm/pkg-${i}@1.${i % 50}.${i % 7}`,
      licenses: [{ expression: i % 3 === 0 ? 'MIT OR Apache-2.0' : 'MIT', acknowledgement: 'concluded' }],
      hashes: [{ alg: 'SHA-512', content: h(i, 'b') }],
      properties: [
        { name: 'bsi:component:filename', value: `pkg-${i}.tgz` }, { name: 'bsi:component:executable', value: 'executable' },
        { name: 'bsi:component:archive', value: 'archive' }, { name: 'bsi:component:structured', value: 'structured' },
      ],
    });
    if (opts.defects) defect(comps.at(-1) as unknown as Component, i);
    // a tree: component i depends on 2i+1 and 2i+2
    deps.push({ ref, dependsOn: [2 * i + 1, 2 * i + 2].filter((j) => j < n).map((j) => `pkg-${j}`) });
  }
  if (opts.defects && n > 2) deps[n - 1]!.dependsOn.push('pkg-missing');
  const acme = { name: 'ACME', url: ['https://acme.example'] };
  return JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79', version: 1,
    metadata: {
      timestamp: '2028-01-10T12:00:00Z', manufacturer: acme,
      component: {
        type: 'application', 'bom-ref': 'root', name: 'product', version: '1.0.0', manufacturer: acme, supplier: { name: 'ACME' }, purl: 'pkg:generic/acme/product@1.0.0',
        licenses: [{ expression: 'LicenseRef-ACME-proprietary', acknowledgement: 'concluded' }], hashes: [{ alg: 'SHA-512', content: h(0, 'a') }],
        properties: [
          { name: 'bsi:component:filename', value: 'product.bin' }, { name: 'bsi:component:executable', value: 'executable' },
          { name: 'bsi:component:archive', value: 'no archive' }, { name: 'bsi:component:structured', value: 'unstructured' },
        ],
      },
    },
    components: comps,
    dependencies: [{ ref: 'root', dependsOn: ['pkg-0'] }, ...deps],
    compositions: [{ aggregate: 'complete', dependencies: ['root', ...comps.map((c) => c['bom-ref'])] }],
  });
}

type Component = Record<string, unknown> & { properties: { name: string; value: string }[] };

function defect(c: Component, i: number): void {
  if (i % 11 === 1) delete c.hashes;
  if (i % 13 === 2) delete c.licenses;
  if (i % 17 === 3) c.licenses = [{ license: { name: 'Some licence' } }];
  if (i % 19 === 4) c.licenses = [{ expression: 'MIT AND (Apache-2.0' }];
  if (i % 23 === 5) c.licenses = [{ expression: 'GPL-2.0+ WITH Classpath-exception-2.0 OR LicenseRef-x' }];
  if (i % 29 === 6) c.properties = c.properties.filter((p) => p.name !== 'bsi:component:filename');
  if (i % 31 === 7) delete c.version;
  if (i % 37 === 8) delete c.supplier;
  if (i % 41 === 9) c.purl = 'not a purl';
  if (i % 43 === 10) c.properties.push({ name: 'bsi:component:executable', value: 'maybe' });
}
