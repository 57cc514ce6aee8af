/**
 * Worker-thread entry: analyse one SBOM off the main event loop (see ../evidence/sbom.ts) and send back only the
 * compact result (./compact.ts: the rules' findings and the components' identity), not the model (issue 16).
 * Before sending it, the worker tells the main thread what the result will take on its heap (`ResultEstimate`) and
 * waits: the main thread admits it against its heap's room (`send`) or refuses it (`drop`, the worker ends).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeSbomAsync } from './analyze.ts';
import { identityChars, toCompactWire } from './compact.ts';
import type { ResultEstimate } from './compact.ts';
import type { SbomLimits } from './parse.ts';
import { resultBytesEstimate } from '../memory-budget.ts';

const { bytes, limits } = workerData as { bytes: Uint8Array; limits: SbomLimits };
const a = await analyzeSbomAsync(bytes, limits);
if (!a.ok) parentPort!.postMessage(a);
else {
  const wire = toCompactWire(a);
  const estimate: ResultEstimate = { kind: 'estimate', needBytes: resultBytesEstimate(wire.model.identities.length, identityChars(wire)), components: wire.model.identities.length };
  const answer = new Promise<unknown>((resolve) => parentPort!.once('message', resolve));
  parentPort!.postMessage(estimate);
  if ((await answer) === 'send') parentPort!.postMessage(wire);
  parentPort!.close();
}
