/**
 * The SYNTHETIC OSV feed of bench/vuln.ts and bench/lib/osv-index-heap.ts: records in the real OSV shape (npm, Maven
 * and PyPI packages, one ECOSYSTEM range with introduced/fixed or last_affected, one alias, a summary), drawn from
 * `rnd` — the caller's PRNG, which bench/vuln.ts goes on using for its SBOM, so both scripts see the same feed.
 */
export const eco = (i: number): string => (i % 10 < 7 ? 'npm' : i % 10 < 9 ? 'Maven' : 'PyPI');
export const pkgName = (i: number): string => (eco(i) === 'Maven' ? `org.example${i % 97}:lib-${i}` : `pkg-${i}`);

export function syntheticOsvRecords(rnd: (n: number) => number, records: number, packages: number): unknown[] {
  const out: unknown[] = [];
  for (let r = 0; r < records; r++) {
    const p = rnd(packages);
    const major = rnd(10);
    const minor = rnd(20);
    const events = rnd(4) === 0
      ? [{ introduced: '0' }, { last_affected: `${major}.${minor}.${rnd(30)}` }]
      : [{ introduced: rnd(3) === 0 ? '0' : `${major}.${minor}.0` }, { fixed: `${major}.${minor + 1 + rnd(3)}.0` }];
    out.push({
      schema_version: '1.6.0',
      id: `SYNTH-${r}`,
      modified: '2026-01-01T00:00:00Z',
      aliases: [`CVE-2026-${100000 + r}`],
      summary: `synthetic advisory ${r}`,
      affected: [{ package: { ecosystem: eco(p), name: pkgName(p) }, ranges: [{ type: 'ECOSYSTEM', events }] }],
    });
  }
  return out;
}
