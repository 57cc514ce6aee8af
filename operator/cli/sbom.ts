/**
 * `cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json]`
 *
 * Checks one SBOM document alone (no release): format validity, BSI TR-03183-2 fields (or NTIA minimum
 * elements), top-level dependencies, completeness, licence identifiers, no vulnerability data.
 * Exit code: 0 compliant, 1 findings, 2 unusable input or usage error.
 */
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { getCompileCacheDir } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DEFAULT_LIMITS, SBOM_MAX_BYTES_CEILING, WORKER_HEAP_MB } from '../sbom/parse.ts';
import type { SbomLimits } from '../sbom/parse.ts';
import { isProfile } from '../sbom/profile.ts';
import type { SbomProfile } from '../sbom/profile.ts';
import { formatBasis } from '../checks/types.ts';
import { siblingModuleUrl } from '../util/package-root.ts';
import type { SbomCheckReport } from './sbom-check.ts';

export const SBOM_USAGE = `Usage: cra-gate sbom check <file> [--profile bsi-2.1|bsi-2.0|ntia] [--output text|json] [--max-bytes N]

Checks an SBOM (CycloneDX JSON 1.4–1.7 or XML 1.2–1.7, SPDX 2.2/2.3 JSON, SPDX 3.0.1 JSON-LD) against BSI TR-03183-2
v2.1.0 (default), v2.0.0 or the NTIA minimum elements.
--max-bytes: the largest document read (default ${DEFAULT_LIMITS.maxBytes}, at most ${SBOM_MAX_BYTES_CEILING}; in a
ReleasePolicy: spec.limits.sbomMaxBytes).
Exit code: 0 compliant, 1 findings, 2 unusable input or usage error.
`;

export interface SbomCheckIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/**
 * Documents from this size on are analysed in a worker thread whose young generation is kept small: the analysis
 * allocates mostly long-lived objects (the document, the model), which V8's default new space (sized for
 * throughput) holds twice over before promoting them — about a quarter of the peak RSS at 10k–50k components, for
 * no speed gain (docs/benchmarks.md). Smaller documents stay in-process: a worker's start-up would cost more.
 */
export const CLI_WORKER_THRESHOLD_BYTES = 1024 * 1024;
/** The worker's young generation (MiB), see CLI_WORKER_THRESHOLD_BYTES. */
const CLI_WORKER_YOUNG_MB = 4;

/** The analysis in a worker: the same code (./sbom-check.ts), heap bounded like the operator's analysis worker. */
function checkInWorker(bytes: Buffer, limits: SbomLimits, profile: SbomProfile): Promise<SbomCheckReport> {
  return new Promise((resolve) => {
    // Hand the bytes over (transfer) rather than copy them, unless they share a pooled buffer.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
    const w = new Worker(siblingModuleUrl('./sbom-worker', import.meta.url), {
      workerData: { bytes: own, limits, profile, compileCacheDir: getCompileCacheDir() },
      transferList: [own.buffer as ArrayBuffer],
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: CLI_WORKER_YOUNG_MB, stackSizeMb: 8 },
    });
    let settled = false;
    const done = (r: SbomCheckReport) => {
      if (settled) return;
      settled = true;
      void w.terminate();
      resolve(r);
    };
    w.once('message', (r: SbomCheckReport) => done(r));
    w.once('error', (err: Error) => {
      const oom = /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);
      done({
        ok: false,
        reason: oom ? 'SbomTooLarge' : 'SbomUnparseable',
        message: oom ? `analysis exceeded its ${WORKER_HEAP_MB} MiB heap` : `analysis failed: ${err.message.slice(0, 160)}`,
      });
    });
    w.once('exit', (code) => done({ ok: false, reason: 'SbomUnparseable', message: `analysis worker exited with code ${code}` }));
  });
}

async function readLimited(path: string, max: number): Promise<{ bytes: Buffer } | { tooLarge: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > max) return { tooLarge: size };
    return { bytes: await fh.readFile() };
  } finally {
    await fh.close();
  }
}

export async function runSbomCheck(argv: string[], io: SbomCheckIo): Promise<number> {
  let values: { profile?: string | undefined; output?: string | undefined; 'max-bytes'?: string | undefined; help?: boolean | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { profile: { type: 'string' }, output: { type: 'string', short: 'o' }, 'max-bytes': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${SBOM_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(SBOM_USAGE);
    return 0;
  }
  const [cmd, file, ...extra] = positionals;
  if (cmd !== 'check' || !file || extra.length > 0) {
    io.stderr.write(SBOM_USAGE);
    return 2;
  }
  const profile = values.profile ?? 'bsi-2.1';
  if (!isProfile(profile)) {
    io.stderr.write(`unknown --profile ${profile} (bsi-2.1, bsi-2.0 or ntia)\n`);
    return 2;
  }
  const maxBytes = values['max-bytes'] === undefined ? DEFAULT_LIMITS.maxBytes : Number(values['max-bytes']);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024 || maxBytes > SBOM_MAX_BYTES_CEILING) {
    io.stderr.write(`--max-bytes must be an integer from 1024 to ${SBOM_MAX_BYTES_CEILING} (the analysis heap bounds it)\n`);
    return 2;
  }
  const limits = { ...DEFAULT_LIMITS, maxBytes };
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    io.stderr.write(`unknown --output ${output} (text or json)\n`);
    return 2;
  }

  let read: { bytes: Buffer } | { tooLarge: number };
  try {
    read = await readLimited(file, limits.maxBytes);
  } catch (err) {
    return unusable(io, output, file, 'SbomUnreadable', err instanceof Error ? err.message : String(err));
  }
  if ('tooLarge' in read) {
    const hint = maxBytes >= SBOM_MAX_BYTES_CEILING ? `the ceiling of ${SBOM_MAX_BYTES_CEILING} bytes` : `the limit of ${maxBytes} bytes (raise it with --max-bytes, at most ${SBOM_MAX_BYTES_CEILING})`;
    return unusable(io, output, file, 'SbomTooLarge', `document is ${read.tooLarge} bytes, above ${hint}`);
  }
  const a =
    read.bytes.byteLength >= CLI_WORKER_THRESHOLD_BYTES
      ? await checkInWorker(read.bytes, limits, profile)
      : await (await import('./sbom-check.ts')).checkSbomBytes(read.bytes, limits, profile);
  if (!a.ok) return unusable(io, output, file, a.reason, a.message, a.digest);
  const rules = a.rules;

  const compliant = rules.every((r) => r.findings.length === 0);
  if (output === 'json') {
    const doc = {
      file,
      digest: a.digest,
      format: a.format,
      specVersion: a.specVersion,
      schema: a.schema,
      profile,
      components: a.components,
      compliant,
      checks: rules.map((r) => ({ id: r.id, result: r.findings.length === 0 ? 'Pass' : 'Fail', reason: r.findings[0]?.reason ?? 'Compliant' })),
      findings: rules.flatMap((r) => r.findings.map((f) => ({ check: r.id, reason: f.reason, pointer: f.pointer, count: f.count, message: f.message, pointers: f.pointers, basis: f.basis }))),
    };
    io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    io.stdout.write(`${file}: ${a.format} ${a.specVersion}, ${a.components} components, ${a.digest}\n`);
    io.stdout.write(`schema: ${a.schema.name}: ${a.schema.valid ? 'valid' : 'INVALID'}\nprofile: ${profile}\n\n`);
    for (const r of rules) {
      io.stdout.write(`${r.findings.length === 0 ? 'PASS' : 'FAIL'}  ${r.id}\n`);
      for (const f of r.findings) io.stdout.write(`      ${f.reason}: ${f.message} [${formatBasis(f.basis)}]\n`);
    }
    io.stdout.write(`\n${compliant ? 'compliant' : `${rules.filter((r) => r.findings.length > 0).length} check(s) failed`}\n`);
  }
  return compliant ? 0 : 1;
}

function unusable(io: SbomCheckIo, output: string, file: string, reason: string, message: string, digest?: string): number {
  if (output === 'json') {
    io.stdout.write(`${JSON.stringify({ file, ...(digest ? { digest } : {}), compliant: false, error: { reason, message } }, null, 2)}\n`);
  } else {
    io.stderr.write(`${file}: unusable SBOM: ${reason}: ${message}\n`);
  }
  return 2;
}
