/** The package version (package.json), read once. Used by the CLI's reports and the operator's CRA files. */
import { readFileSync } from 'node:fs';
import { packagePath } from './package-root.ts';

let version: string | undefined;
export function packageVersion(): string {
  if (version === undefined) {
    try {
      // From the package root, not this file: the same code runs from operator/ and from dist/operator/.
      version = String((JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0');
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}
