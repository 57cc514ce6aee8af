/**
 * Package identity shared by SBOM components, OSV packages, VEX products and waivers: a key
 * `<purl type>:<namespace/>name` (normalised per type) plus the version. Parsing uses packageurl-js.
 */
import { PackageURL } from 'packageurl-js';

export interface PackageId {
  /** `npm:@scope/name`, `maven:group/artifact`, `golang:github.com/x/y`, `pypi:name`, `deb:debian/name` … */
  readonly key: string;
  readonly type: string;
  readonly version?: string;
}

/** OSV ecosystem name (before any ":release" suffix) -> purl type. */
const ECOSYSTEM_TO_TYPE: Readonly<Record<string, string>> = {
  npm: 'npm',
  PyPI: 'pypi',
  Maven: 'maven',
  Go: 'golang',
  Debian: 'deb',
  Ubuntu: 'deb',
  'crates.io': 'cargo',
  RubyGems: 'gem',
  NuGet: 'nuget',
  Packagist: 'composer',
  Hex: 'hex',
  Pub: 'pub',
  Alpine: 'apk',
  SwiftURL: 'swift',
  GitHub_Actions: 'github',
};

function normaliseName(type: string, namespace: string | undefined, name: string): string {
  let ns = namespace ?? '';
  let n = name;
  switch (type) {
    case 'pypi':
      n = n.toLowerCase().replace(/[-_.]+/g, '-');
      break;
    case 'npm':
    case 'composer':
    case 'golang':
    case 'github':
      // npm names are lower-case; Go module paths are case-sensitive but case-folded here for matching.
      ns = ns.toLowerCase();
      n = n.toLowerCase();
      break;
    default:
      break;
  }
  return ns ? `${ns}/${n}` : n;
}

/** Parse a package URL; undefined when it is not one. */
export function packageIdFromPurl(purl: string): PackageId | undefined {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(purl.trim());
  } catch {
    return undefined;
  }
  const type = p.type.toLowerCase();
  let namespace = p.namespace ?? undefined;
  // Debian/Ubuntu purls carry the distribution as namespace; OSV Debian names do not. Keep the vendor.
  if (type === 'deb' && namespace) namespace = namespace.toLowerCase();
  return {
    key: `${type}:${normaliseName(type, namespace, p.name)}`,
    type,
    ...(p.version ? { version: p.version } : {}),
  };
}

/** The key for an OSV `affected[].package`; undefined for ecosystems without a purl mapping. */
export function keyForOsvPackage(ecosystem: string, name: string, purl?: string): string | undefined {
  if (purl) {
    const id = packageIdFromPurl(purl);
    if (id) return id.key;
  }
  const base = ecosystem.split(':')[0]!;
  const type = Object.hasOwn(ECOSYSTEM_TO_TYPE, base) ? ECOSYSTEM_TO_TYPE[base] : undefined;
  if (!type) return undefined;
  switch (type) {
    case 'maven': {
      const [g, a] = name.split(':');
      return a ? `maven:${normaliseName('maven', g, a)}` : undefined;
    }
    case 'golang':
    case 'composer':
    case 'npm':
    case 'swift':
    case 'github': {
      const i = name.lastIndexOf('/');
      return `${type}:${normaliseName(type, i > 0 ? name.slice(0, i) : undefined, i > 0 ? name.slice(i + 1) : name)}`;
    }
    case 'deb':
      return `deb:${normaliseName('deb', base.toLowerCase(), name)}`;
    case 'apk':
      return `apk:${normaliseName('apk', 'alpine', name)}`;
    default:
      return `${type}:${normaliseName(type, undefined, name)}`;
  }
}

/**
 * Whether `pattern` (a purl, optionally without version) designates the package `purl`. Qualifiers and
 * subpath are ignored; a pattern without version matches every version.
 */
export function purlMatches(pattern: string, purl: string): boolean {
  const a = packageIdFromPurl(pattern);
  const b = packageIdFromPurl(purl);
  if (!a || !b || a.key !== b.key) return false;
  return a.version === undefined || a.version === b.version;
}
