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
  /** The purl's `distro` qualifier, when present (deb, rpm, apk). */
  readonly distro?: string;
  /** deb: the source package from the `upstream` qualifier (`openssl`, or `glibc@2.36-9` with its version). */
  readonly upstream?: { readonly name: string; readonly version?: string };
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
  const distro = p.qualifiers?.distro;
  const up = p.qualifiers?.upstream;
  let upstream: PackageId['upstream'];
  if (typeof up === 'string' && up.trim() !== '') {
    const at = up.indexOf('@');
    upstream = at > 0 ? { name: up.slice(0, at).trim(), version: up.slice(at + 1).trim() } : { name: up.trim() };
  }
  return {
    key: `${type}:${normaliseName(type, namespace, p.name)}`,
    type,
    ...(p.version ? { version: p.version } : {}),
    ...(typeof distro === 'string' && distro.trim() !== '' ? { distro: distro.trim() } : {}),
    ...(upstream ? { upstream } : {}),
  };
}

/** purl type -> OSV ecosystem (deb: by namespace). Types without an OSV ecosystem are absent. */
const TYPE_TO_ECOSYSTEM: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ECOSYSTEM_TO_TYPE).filter(([eco]) => eco !== 'Ubuntu' && eco !== 'Debian').map(([eco, type]) => [type, eco]),
);

/** Release-specific ecosystems: a record for one release never decides a component built for another. */
export const DISTRO_ECOSYSTEMS: ReadonlySet<string> = new Set(['Debian', 'Ubuntu', 'Alpine']);

const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  jessie: '8', stretch: '9', buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14', duke: '15',
};
const UBUNTU_CODENAMES: Readonly<Record<string, string>> = {
  xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', kinetic: '22.10', lunar: '23.04', mantic: '23.10',
  noble: '24.04', oracular: '24.10', plucky: '25.04', questing: '25.10', resolute: '26.04',
};

/**
 * The distribution release a purl's `distro` qualifier (or an OSV ecosystem suffix) names, normalised to
 * what OSV uses after the colon: Debian `12` (from `debian-12`, `debian-12.5`, `12`, `bookworm`), Ubuntu
 * `22.04` (from `ubuntu-22.04`, `jammy`, `Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`), Alpine `3.20` (from
 * `alpine-3.20`, `3.20.3`, `v3.20`). Undefined when it names no release of `ecosystem`.
 */
export function distroRelease(ecosystem: string, raw: string): string | undefined {
  const s = raw.trim().toLowerCase();
  switch (ecosystem) {
    case 'Debian': {
      const name = s.replace(/^debian-/, '');
      const code = Object.hasOwn(DEBIAN_CODENAMES, name) ? DEBIAN_CODENAMES[name] : undefined;
      if (code) return code;
      const m = /^(?:debian-)?(\d+)(?:\.\d+)*$/.exec(s);
      return m ? String(Number(m[1])) : undefined;
    }
    case 'Ubuntu': {
      const name = s.replace(/^ubuntu-/, '');
      const code = Object.hasOwn(UBUNTU_CODENAMES, name) ? UBUNTU_CODENAMES[name] : undefined;
      if (code) return code;
      const m = /(?:^|[-:])(\d{2}\.\d{2})(?:$|[.:-])/.exec(s) ?? /^(\d{2}\.\d{2})/.exec(s);
      return m ? m[1] : undefined;
    }
    case 'Alpine': {
      const m = /^(?:alpine-)?v?(\d+)\.(\d+)(?:\.\d+)?$/.exec(s);
      return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
    }
    default:
      return undefined;
  }
}

/** An OSV ecosystem string split into its base and (for distributions) normalised release. */
export function parseEcosystem(ecosystem: string): { base: string; release?: string } {
  const i = ecosystem.indexOf(':');
  const base = i < 0 ? ecosystem : ecosystem.slice(0, i);
  if (i < 0 || !DISTRO_ECOSYSTEMS.has(base)) return { base };
  const release = distroRelease(base, ecosystem.slice(i + 1));
  return release ? { base, release } : { base };
}

/**
 * The OSV ecosystem of a purl: `Debian` / `Ubuntu` (deb by namespace), `Alpine` (apk), `npm`, `crates.io` …
 * and, for distributions, the release from its `distro` qualifier. Undefined for types without one
 * (`generic`, `github` repositories, …).
 */
export function ecosystemOfPurl(id: PackageId): { base: string; release?: string } | undefined {
  let base: string | undefined;
  if (id.type === 'deb') {
    const ns = id.key.slice(4).split('/')[0];
    base = ns === 'debian' ? 'Debian' : ns === 'ubuntu' ? 'Ubuntu' : undefined;
  } else if (id.type === 'apk') {
    base = id.key.slice(4).split('/')[0] === 'alpine' ? 'Alpine' : undefined;
  } else base = Object.hasOwn(TYPE_TO_ECOSYSTEM, id.type) ? TYPE_TO_ECOSYSTEM[id.type] : undefined;
  if (!base) return undefined;
  if (!DISTRO_ECOSYSTEMS.has(base) || !id.distro) return { base };
  const release = distroRelease(base, id.distro);
  return release ? { base, release } : { base };
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
