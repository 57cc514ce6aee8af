/**
 * Where the package's run-time files are (package.json, crds/, policies/, operator/sbom/schemas/): the same code
 * runs from the repository (`operator/**.ts`, type stripping) and from the compiled package
 * (`dist/operator/**.js`, `npm install cra-gate`), so assets are found relative to the package root, not relative to
 * the module file. The root is the nearest ancestor directory whose package.json is named `cra-gate`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'cra-gate';

/** Finds the package root above `fromDir` (at most `maxLevels` up); throws when there is none. */
export function findPackageRoot(fromDir: string, maxLevels = 6): string {
  let dir = path.resolve(fromDir);
  for (let i = 0; i <= maxLevels; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours (unreadable or not JSON): keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cra-gate: package root not found above ${fromDir} (no package.json named "${PACKAGE_NAME}")`);
}

let root: string | undefined;
/** The cra-gate package root (the repository checkout, or the installed package directory). */
export function packageRoot(): string {
  root ??= findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
  return root;
}

/** A path inside the package root, e.g. `packagePath('crds')`. */
export function packagePath(...segments: string[]): string {
  return path.join(packageRoot(), ...segments);
}

/**
 * The URL of a sibling module given by its stem (`'../sbom/worker'`) with the extension this module runs under:
 * `.ts` from the sources, `.js` from the compiled package. For `new Worker(...)`, whose URL tsc does not rewrite.
 */
export function siblingModuleUrl(stem: string, base: string): URL {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${stem}${ext}`, base);
}
