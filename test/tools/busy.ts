/**
 * A bounded CPU-load generator, to prove that test suites wait on real readiness signals rather than on a
 * quiet machine: N worker threads spin (tight arithmetic loops) for at most T seconds.
 *
 *   node test/tools/busy.ts [--workers N] [--seconds T]                 # load only
 *   node test/tools/busy.ts [--workers N] [--seconds T] -- CMD ARGS...  # run CMD with the CPUs kept busy
 *
 * N defaults to the number of CPUs (at most 64), T to 600 and is capped at 3600: the load always ends on its own.
 * With a command, the load stops when the command exits (or at T) and the exit code is the command's. The
 * workers run at normal priority: they compete with the tests on equal terms, which is the point.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const SPIN = `
const { workerData, parentPort } = require('node:worker_threads');
const end = Date.now() + workerData.ms;
let x = 0, loops = 0, reported = Date.now();
while (Date.now() < end) {
  for (let i = 0; i < 1e6; i++) x = (x * 1103515245 + 12345) % 2147483648;
  loops++;
  if (Date.now() - reported >= 1000) { parentPort.postMessage(loops + (x & 0)); loops = 0; reported = Date.now(); }
}
parentPort.postMessage(loops);
`;

function fail(msg: string): never {
  process.stderr.write(`busy: ${msg}\n`);
  process.exit(2);
}

const dash = process.argv.indexOf('--');
const own = dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2);
const command = dash >= 0 ? process.argv.slice(dash + 1) : [];
const { values } = parseArgs({ args: own, options: { workers: { type: 'string' }, seconds: { type: 'string' } } });
const workers = values.workers === undefined ? Math.min(64, availableParallelism()) : Number(values.workers);
const seconds = values.seconds === undefined ? 600 : Number(values.seconds);
if (!Number.isInteger(workers) || workers < 1 || workers > 64) fail('--workers must be an integer from 1 to 64');
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) fail('--seconds must be > 0 and <= 3600');

const started = Date.now();
const threads: Worker[] = [];
let loops = 0;
for (let i = 0; i < workers; i++) {
  const w = new Worker(SPIN, { eval: true, workerData: { ms: seconds * 1000 } });
  w.on('message', (n: number) => (loops += n));
  threads.push(w);
}
process.stderr.write(`busy: ${workers} busy loop(s) for at most ${seconds} s\n`);

const stop = async (code: number): Promise<never> => {
  await Promise.all(threads.map((t) => t.terminate()));
  process.stderr.write(`busy: stopped after ${((Date.now() - started) / 1000).toFixed(1)} s (${loops} M iterations reported)\n`);
  process.exit(code);
};
const deadline = setTimeout(() => void stop(0), seconds * 1000 + 1000);
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(130));

if (command.length > 0) {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  child.on('error', (err) => {
    process.stderr.write(`busy: cannot run ${command[0]}: ${err.message}\n`);
    void stop(127);
  });
  child.on('exit', (code, signal) => {
    clearTimeout(deadline);
    void stop(code ?? (signal ? 1 : 0));
  });
} else {
  let done = 0;
  for (const t of threads) {
    t.on('exit', () => {
      if (++done === threads.length) {
        clearTimeout(deadline);
        void stop(0);
      }
    });
  }
}
