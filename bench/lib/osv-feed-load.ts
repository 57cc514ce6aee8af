/**
 * A process that ONLY reads and indexes one OSV feed file (JSON or ZIP bundle), as the feed store does, and prints
 * `{"ms":…,"cpuMs":…,"records":…,"maxRssMiB":…}`: bench/vuln.ts runs it fresh per measurement so the peak RSS is the
 * feed's own (plus Node's baseline), not the benchmark's. Usage: node bench/lib/osv-feed-load.ts <file>
 */
import { readFileSync } from 'node:fs';

/**
 * This process's peak RSS: VmHWM of /proc/self/status. Not `process.resourceUsage().maxRSS`: Linux carries the
 * high-water mark of the pre-exec copy of the parent into a child's ru_maxrss, so a child spawned by a 2 GiB
 * benchmark would report 2 GiB whatever it did.
 */
function peakRssMiB(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/self/status');
  return Number(m[1]) / 1024;
}
import { indexOsvDocuments } from '../../operator/vuln/bundle.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: osv-feed-load.ts <feed file>');
const bytes = readFileSync(file);
const t = performance.now();
const cpu = process.cpuUsage();
const index = await indexOsvDocuments([{ name: file, bytes }]);
const ms = performance.now() - t;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, records: index.recordCount, packages: index.packageCount, maxRssMiB: peakRssMiB() }));
