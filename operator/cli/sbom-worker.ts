/** Worker-thread entry of `cra-gate sbom check` for large documents (see ./sbom.ts): the analysis and the rules. */
import { parentPort, workerData } from 'node:worker_threads';
import { checkSbomBytes } from './sbom-check.ts';
import type { SbomLimits } from '../sbom/parse.ts';
import type { SbomProfile } from '../sbom/rules.ts';

const { bytes, limits, profile } = workerData as { bytes: Uint8Array; limits: SbomLimits; profile: SbomProfile };
parentPort!.postMessage(await checkSbomBytes(bytes, limits, profile));
