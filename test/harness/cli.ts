/** Runs the CLI from the sources (operator/cli/main.ts) as a child process, as a CI step would. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './fixture.ts';

export const cliMain = path.join(repoRoot, 'operator', 'cli', 'main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `cra-gate <args>` with NO_COLOR and extra environment; rejects (after killing it) when it exceeds `timeoutMs`. */
export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cliMain, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`cra-gate ${args.join(' ')} timed out`));
    }, opts.timeoutMs ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
