import { startControlPlane } from './controlplane.ts';
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  const cp = await startControlPlane({ log: () => {} });
  const start = performance.now() - t;
  t = performance.now(); await cp.restartApiServer(); const restart = performance.now() - t;
  t = performance.now(); await cp.stop(); const stop = performance.now() - t;
  console.log(`start ${start.toFixed(0)} ms, apiserver restart ${restart.toFixed(0)} ms, stop ${stop.toFixed(0)} ms`);
}
