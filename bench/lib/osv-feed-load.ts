/**
 * A process that ONLY reads and indexes one OSV feed file (JSON or ZIP bundle), as the feed store does, and prints
 * `{"ms":…,"cpuMs":…,"records":…,"maxRssMiB":…}`: bench/vuln.ts runs it fresh per measurement so the peak RSS is the
 * feed's own (plus Node's baseline), not the benchmark's. Usage: node bench/lib/osv-feed-load.ts <file>
 */
import { readFileSync } from 'node:fs';
import { indexOsvDocuments } from '../../operator/vuln/bundle.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: osv-feed-load.ts <feed file>');
const bytes = readFileSync(file);
const t = performance.now();
const cpu = process.cpuUsage();
const index = await indexOsvDocuments([{ name: file, bytes }]);
const ms = performance.now() - t;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, records: index.recordCount, packages: index.packageCount, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
