/**
 * The packed npm package for tests: `npm pack` (its prepack script compiles dist/) into a directory, and a
 * bounded process runner that never throws. Used by test/integration/package.test.ts and action.test.ts.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './fixture.ts';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a time limit (SIGKILL after it; `code` is then null). */
export function runProcess(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `npm pack` of the repository into `dir`; returns the tarball's path. */
export async function packTarball(dir: string): Promise<string> {
  const packed = await runProcess(npm, ['pack', '--pack-destination', dir, '--loglevel=error'], { timeoutMs: 300_000 });
  if (packed.code !== 0) throw new Error(`npm pack failed (${packed.code}): ${packed.stderr.slice(-4000)}`);
  const tgz = readdirSync(dir).find((f) => f.startsWith('cra-gate-') && f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack wrote no tarball into ${dir}`);
  return path.join(dir, tgz);
}
