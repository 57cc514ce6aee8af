/** Worker-thread entry: analyse one SBOM off the main event loop (see ../evidence/sbom.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeSbomAsync } from './analyze.ts';
import type { SbomLimits } from './parse.ts';

const { bytes, limits } = workerData as { bytes: Uint8Array; limits: SbomLimits };
parentPort!.postMessage(await analyzeSbomAsync(bytes, limits));
