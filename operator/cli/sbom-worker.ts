/** Worker-thread entry of `cra-gate sbom check` for large documents (see ./sbom.ts): the analysis and the rules. */
import { enableCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type { SbomLimits } from '../sbom/parse.ts';
import type { SbomProfile } from '../sbom/rules.ts';

const { bytes, limits, profile, compileCacheDir } = workerData as { bytes: Uint8Array; limits: SbomLimits; profile: SbomProfile; compileCacheDir?: string };
// A worker does not inherit the main thread's compile cache (bin/launch.mjs): enable the same one before loading
// the analysis modules, so the worker does not compile them afresh on every run.
if (compileCacheDir) {
  try {
    enableCompileCache(compileCacheDir);
  } catch {
    // no cache: only slower
  }
}
const { checkSbomBytes } = await import('./sbom-check.ts');
parentPort!.postMessage(await checkSbomBytes(bytes, limits, profile));
