/**
 * The Kubernetes Pod Security Standards, baseline and restricted levels, version "latest" (as of
 * Kubernetes v1.36: https://kubernetes.io/docs/concepts/security/pod-security-standards/), evaluated on Pods
 * and on every pod template (ReplicationController, ReplicaSet, Deployment, StatefulSet, DaemonSet, Job,
 * CronJob, PodTemplate) exactly as the PodSecurity admission controller (k8s.io/pod-security-admission) does:
 *
 *  - the same controls and allowed values, the same "restricted overrides baseline" pairs (capabilities,
 *    seccomp, hostPath→volume types, procMount), the same exemptions (spec.os.name=windows for
 *    allowPrivilegeEscalation, seccomp and capabilities at restricted; hostUsers=false for runAsNonRoot,
 *    runAsUser and the baseline procMount);
 *  - the API server's defaulting that PodSecurity sees: a Pod (not a template) with hostNetwork gets every
 *    container port's hostPort defaulted to its containerPort.
 *
 * Unlike admission, which reports one line per control, this reports one violation per control and JSON
 * pointer (each offending container, volume, annotation or field), so a release owner sees where to fix.
 * Pure; works on untyped JSON.
 */
import { pointerSegment } from '../util/json-pointer.ts';
import type { ManifestDoc } from './types.ts';

export type PssLevel = 'baseline' | 'restricted';

export interface PodSpecLocation {
  readonly meta: Record<string, unknown>;
  readonly spec: Record<string, unknown>;
  /** Pointers relative to the object root. */
  readonly metaPointer: string;
  readonly specPointer: string;
  /** A Pod (enforced by admission and defaulted) rather than a template (warned). */
  readonly isPod: boolean;
}

export interface PssViolation {
  /** Stable rule id, `pss.<control>`. */
  readonly rule: PssRuleId;
  readonly level: PssLevel;
  /** Relative to the object root. */
  readonly pointer: string;
  readonly message: string;
}

export const PSS_RULES = {
  'pss.host-process': { level: 'baseline', title: 'HostProcess (Windows)' },
  'pss.host-namespaces': { level: 'baseline', title: 'Host namespaces' },
  'pss.privileged': { level: 'baseline', title: 'Privileged containers' },
  'pss.capabilities-baseline': { level: 'baseline', title: 'Capabilities (baseline)' },
  'pss.host-path-volumes': { level: 'baseline', title: 'HostPath volumes' },
  'pss.host-ports': { level: 'baseline', title: 'Host ports' },
  'pss.host-probes': { level: 'baseline', title: 'Host probes / lifecycle hooks' },
  'pss.apparmor': { level: 'baseline', title: 'AppArmor' },
  'pss.selinux': { level: 'baseline', title: 'SELinux' },
  'pss.proc-mount-baseline': { level: 'baseline', title: '/proc mount type' },
  'pss.seccomp-baseline': { level: 'baseline', title: 'Seccomp (baseline)' },
  'pss.sysctls': { level: 'baseline', title: 'Sysctls' },
  'pss.volume-types': { level: 'restricted', title: 'Volume types' },
  'pss.allow-privilege-escalation': { level: 'restricted', title: 'Privilege escalation' },
  'pss.run-as-non-root': { level: 'restricted', title: 'Running as non-root' },
  'pss.run-as-user': { level: 'restricted', title: 'Running as non-root user' },
  'pss.seccomp-restricted': { level: 'restricted', title: 'Seccomp (restricted)' },
  'pss.capabilities-restricted': { level: 'restricted', title: 'Capabilities (restricted)' },
  'pss.proc-mount-restricted': { level: 'restricted', title: '/proc mount type (restricted)' },
} as const satisfies Record<string, { level: PssLevel; title: string }>;

export type PssRuleId = keyof typeof PSS_RULES;

/** Baseline controls that a restricted control replaces (as admission's OverrideCheckIDs). */
const OVERRIDDEN_AT_RESTRICTED: ReadonlySet<PssRuleId> = new Set<PssRuleId>([
  'pss.capabilities-baseline',
  'pss.host-path-volumes',
  'pss.seccomp-baseline',
  'pss.proc-mount-baseline',
]);

/** The controls evaluated at a level. */
export function rulesForLevel(level: PssLevel): PssRuleId[] {
  return (Object.keys(PSS_RULES) as PssRuleId[]).filter((id) =>
    level === 'baseline' ? PSS_RULES[id].level === 'baseline' : !OVERRIDDEN_AT_RESTRICTED.has(id),
  );
}

// ---- untyped JSON helpers -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function rec(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

// ---- pod spec extraction ----------------------------------------------------------------------------------

const TEMPLATE_KINDS = new Set(['ReplicationController', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/** The pod metadata and spec of a Pod or pod-template object, as admission's PodSpecExtractor finds them. */
export function podSpecOf(doc: Pick<ManifestDoc, 'kind' | 'apiVersion' | 'object'>): PodSpecLocation | undefined {
  const o = doc.object;
  const slash = doc.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : doc.apiVersion.slice(0, slash);
  const template = (t: unknown, base: string): PodSpecLocation | undefined => {
    const tpl = rec(t);
    if (!tpl) return undefined;
    return { meta: rec(tpl.metadata) ?? {}, spec: rec(tpl.spec) ?? {}, metaPointer: `${base}/metadata`, specPointer: `${base}/spec`, isPod: false };
  };
  if (doc.kind === 'Pod' && group === '') {
    return { meta: rec(o.metadata) ?? {}, spec: rec(o.spec) ?? {}, metaPointer: '/metadata', specPointer: '/spec', isPod: true };
  }
  if (doc.kind === 'PodTemplate' && group === '') return template(o.template, '/template');
  if (TEMPLATE_KINDS.has(doc.kind) && ['', 'apps', 'batch', 'extensions'].includes(group)) {
    return template(rec(o.spec)?.template, '/spec/template');
  }
  if (doc.kind === 'CronJob' && group === 'batch') {
    return template(rec(rec(rec(o.spec)?.jobTemplate)?.spec)?.template, '/spec/jobTemplate/spec/template');
  }
  return undefined;
}

export interface ContainerRef {
  readonly c: Obj;
  readonly name: string;
  readonly pointer: string;
  readonly sc: Obj | undefined;
  readonly ephemeral: boolean;
}

/** Init containers, containers, ephemeral containers (admission's visitContainers order). */
export function containersOf(loc: Pick<PodSpecLocation, 'spec' | 'specPointer'>): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    list(loc.spec[field]).forEach((raw, i) => {
      const c = rec(raw) ?? {};
      out.push({
        c,
        name: str(c.name) || `#${i}`,
        pointer: `${loc.specPointer}/${field}/${i}`,
        sc: rec(c.securityContext),
        ephemeral: field === 'ephemeralContainers',
      });
    });
  }
  return out;
}

// ---- the controls ---------------------------------------------------------------------------------------

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']);
const RESTRICTED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image',
  'persistentVolumeClaim', 'projected', 'secret']);
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

type Emit = (rule: PssRuleId, pointer: string, message: string) => void;

interface Ctx {
  readonly loc: PodSpecLocation;
  readonly spec: Obj;
  readonly podSc: Obj | undefined;
  readonly containers: ContainerRef[];
  readonly windows: boolean;
  readonly userNamespace: boolean;
}

type Control = (x: Ctx, emit: Emit) => void;

const cn = (r: ContainerRef): string => `container "${r.name}"`;
const okProfile = (t: unknown): boolean => t === 'RuntimeDefault' || t === 'Localhost';
const typeText = (p: Obj): string => JSON.stringify(str(p.type));

function procMount(rule: 'pss.proc-mount-baseline' | 'pss.proc-mount-restricted', x: Ctx, emit: Emit): void {
  for (const r of x.containers) {
    const pm = r.sc?.procMount;
    if (isSet(pm) && pm !== 'Default') emit(rule, `${r.pointer}/securityContext/procMount`, `${cn(r)} must not set securityContext.procMount to ${JSON.stringify(pm)}`);
  }
}

const controls: Record<PssRuleId, Control> = {
  'pss.host-process': (x, emit) => {
    if (rec(x.podSc?.windowsOptions)?.hostProcess === true) {
      emit('pss.host-process', `${x.loc.specPointer}/securityContext/windowsOptions/hostProcess`, 'pod must not set securityContext.windowsOptions.hostProcess=true');
    }
    for (const r of x.containers) {
      if (rec(r.sc?.windowsOptions)?.hostProcess === true) {
        emit('pss.host-process', `${r.pointer}/securityContext/windowsOptions/hostProcess`, `${cn(r)} must not set securityContext.windowsOptions.hostProcess=true`);
      }
    }
  },
  'pss.host-namespaces': (x, emit) => {
    for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (x.spec[f] === true) emit('pss.host-namespaces', `${x.loc.specPointer}/${f}`, `pod must not share a host namespace (${f}=true)`);
    }
  },
  'pss.privileged': (x, emit) => {
    for (const r of x.containers) {
      if (r.sc?.privileged === true) emit('pss.privileged', `${r.pointer}/securityContext/privileged`, `${cn(r)} must not set securityContext.privileged=true`);
    }
  },
  'pss.capabilities-baseline': (x, emit) => {
    for (const r of x.containers) {
      list(rec(r.sc?.capabilities)?.add).forEach((cap, i) => {
        if (!BASELINE_CAPABILITIES.has(str(cap))) {
          emit('pss.capabilities-baseline', `${r.pointer}/securityContext/capabilities/add/${i}`, `${cn(r)} must not add capability ${JSON.stringify(cap)}`);
        }
      });
    }
  },
  'pss.host-path-volumes': (x, emit) => {
    list(x.spec.volumes).forEach((v, i) => {
      const vol = rec(v);
      if (vol && isSet(vol.hostPath)) emit('pss.host-path-volumes', `${x.loc.specPointer}/volumes/${i}/hostPath`, `volume "${str(vol.name)}" must not be a hostPath volume`);
    });
  },
  'pss.host-ports': (x, emit) => {
    // The API server defaults hostPort := containerPort for a Pod (not a template) with hostNetwork, on
    // containers and init containers (ephemeral containers have no ports); admission sees the defaulted Pod.
    const defaulted = x.loc.isPod && x.spec.hostNetwork === true;
    for (const r of x.containers) {
      list(r.c.ports).forEach((p, i) => {
        const port = rec(p);
        if (!port) return;
        const pointer = `${r.pointer}/ports/${i}/hostPort`;
        if (isSet(port.hostPort) && port.hostPort !== 0) {
          emit('pss.host-ports', pointer, `${cn(r)} must not use hostPort ${String(port.hostPort)}`);
        } else if (defaulted && !r.ephemeral && isSet(port.containerPort) && port.containerPort !== 0) {
          emit('pss.host-ports', pointer, `${cn(r)} uses hostPort ${String(port.containerPort)} (with hostNetwork the API server defaults hostPort to containerPort)`);
        }
      });
    }
  },
  'pss.host-probes': (x, emit) => {
    for (const r of x.containers) {
      const lifecycle = rec(r.c.lifecycle);
      const handlers: [string, unknown][] = [
        ['livenessProbe', r.c.livenessProbe],
        ['readinessProbe', r.c.readinessProbe],
        ['startupProbe', r.c.startupProbe],
        ['lifecycle/postStart', lifecycle?.postStart],
        ['lifecycle/preStop', lifecycle?.preStop],
      ];
      for (const [path, h] of handlers) {
        const handler = rec(h);
        if (!handler) continue;
        for (const kind of ['httpGet', 'tcpSocket']) {
          const host = str(rec(handler[kind])?.host);
          if (host !== '') {
            emit('pss.host-probes', `${r.pointer}/${path}/${kind}/host`, `${cn(r)} must not set ${path.replace('/', '.')}.${kind}.host (${JSON.stringify(host)})`);
          }
        }
      }
    }
  },
  'pss.apparmor': (x, emit) => {
    const podProfile = rec(x.podSc?.appArmorProfile);
    if (podProfile && !okProfile(podProfile.type)) {
      emit('pss.apparmor', `${x.loc.specPointer}/securityContext/appArmorProfile/type`, `pod must not set AppArmor profile type ${typeText(podProfile)}`);
    }
    for (const r of x.containers) {
      const p = rec(r.sc?.appArmorProfile);
      if (p && !okProfile(p.type)) emit('pss.apparmor', `${r.pointer}/securityContext/appArmorProfile/type`, `${cn(r)} must not set AppArmor profile type ${typeText(p)}`);
    }
    for (const [k, v] of Object.entries(rec(x.loc.meta.annotations) ?? {})) {
      if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
      const value = str(v);
      if (value === '' || value === 'runtime/default' || value.startsWith('localhost/')) continue;
      emit('pss.apparmor', `${x.loc.metaPointer}/annotations/${pointerSegment(k)}`, `annotation ${k} must not set AppArmor profile ${JSON.stringify(value)}`);
    }
  },
  'pss.selinux': (x, emit) => {
    const check = (opts: Obj | undefined, base: string, who: string): void => {
      if (!opts) return;
      const type = str(opts.type);
      if (!SELINUX_TYPES.has(type)) emit('pss.selinux', `${base}/seLinuxOptions/type`, `${who} must not set SELinux type ${JSON.stringify(type)}`);
      if (str(opts.user) !== '') emit('pss.selinux', `${base}/seLinuxOptions/user`, `${who} must not set an SELinux user`);
      if (str(opts.role) !== '') emit('pss.selinux', `${base}/seLinuxOptions/role`, `${who} must not set an SELinux role`);
    };
    check(rec(x.podSc?.seLinuxOptions), `${x.loc.specPointer}/securityContext`, 'pod');
    for (const r of x.containers) check(rec(r.sc?.seLinuxOptions), `${r.pointer}/securityContext`, cn(r));
  },
  'pss.proc-mount-baseline': (x, emit) => {
    if (!x.userNamespace) procMount('pss.proc-mount-baseline', x, emit);
  },
  'pss.proc-mount-restricted': (x, emit) => procMount('pss.proc-mount-restricted', x, emit),
  'pss.seccomp-baseline': (x, emit) => {
    const pod = rec(x.podSc?.seccompProfile);
    if (pod && !okProfile(pod.type)) emit('pss.seccomp-baseline', `${x.loc.specPointer}/securityContext/seccompProfile/type`, `pod must not set seccompProfile.type ${typeText(pod)}`);
    for (const r of x.containers) {
      const p = rec(r.sc?.seccompProfile);
      if (p && !okProfile(p.type)) emit('pss.seccomp-baseline', `${r.pointer}/securityContext/seccompProfile/type`, `${cn(r)} must not set seccompProfile.type ${typeText(p)}`);
    }
  },
  'pss.seccomp-restricted': (x, emit) => {
    if (x.windows) return;
    const pod = rec(x.podSc?.seccompProfile);
    let podSet = false;
    if (pod) {
      if (!okProfile(pod.type)) emit('pss.seccomp-restricted', `${x.loc.specPointer}/securityContext/seccompProfile/type`, `pod must not set seccompProfile.type ${typeText(pod)}`);
      else podSet = true;
    }
    for (const r of x.containers) {
      const p = rec(r.sc?.seccompProfile);
      if (p) {
        if (!okProfile(p.type)) emit('pss.seccomp-restricted', `${r.pointer}/securityContext/seccompProfile/type`, `${cn(r)} must not set seccompProfile.type ${typeText(p)}`);
      } else if (!podSet) {
        emit('pss.seccomp-restricted', `${r.pointer}/securityContext/seccompProfile`, `pod or ${cn(r)} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost`);
      }
    }
  },
  'pss.sysctls': (x, emit) => {
    list(x.podSc?.sysctls).forEach((s, i) => {
      const name = str(rec(s)?.name);
      if (!SAFE_SYSCTLS.has(name)) emit('pss.sysctls', `${x.loc.specPointer}/securityContext/sysctls/${i}/name`, `pod must not set the unsafe sysctl ${JSON.stringify(name)}`);
    });
  },
  'pss.volume-types': (x, emit) => {
    list(x.spec.volumes).forEach((v, i) => {
      const vol = rec(v) ?? {};
      const sources = Object.keys(vol).filter((k) => k !== 'name' && isSet(vol[k]));
      if (sources.some((k) => RESTRICTED_VOLUME_SOURCES.has(k))) return;
      const type = sources[0];
      emit('pss.volume-types', `${x.loc.specPointer}/volumes/${i}${type ? `/${pointerSegment(type)}` : ''}`,
        `volume "${str(vol.name)}" uses the restricted volume type ${type ?? 'unknown'}`);
    });
  },
  'pss.allow-privilege-escalation': (x, emit) => {
    if (x.windows) return;
    for (const r of x.containers) {
      if (r.sc?.allowPrivilegeEscalation !== false) {
        emit('pss.allow-privilege-escalation', `${r.pointer}/securityContext/allowPrivilegeEscalation`, `${cn(r)} must set securityContext.allowPrivilegeEscalation=false`);
      }
    }
  },
  'pss.run-as-non-root': (x, emit) => {
    if (x.userNamespace) return;
    const podValue = x.podSc?.runAsNonRoot;
    if (podValue === false) emit('pss.run-as-non-root', `${x.loc.specPointer}/securityContext/runAsNonRoot`, 'pod must not set securityContext.runAsNonRoot=false');
    for (const r of x.containers) {
      const v = r.sc?.runAsNonRoot;
      if (isSet(v)) {
        if (v === false) emit('pss.run-as-non-root', `${r.pointer}/securityContext/runAsNonRoot`, `${cn(r)} must not set securityContext.runAsNonRoot=false`);
      } else if (podValue !== true) {
        emit('pss.run-as-non-root', `${r.pointer}/securityContext/runAsNonRoot`, `pod or ${cn(r)} must set securityContext.runAsNonRoot=true`);
      }
    }
  },
  'pss.run-as-user': (x, emit) => {
    if (x.userNamespace) return;
    if (x.podSc?.runAsUser === 0) emit('pss.run-as-user', `${x.loc.specPointer}/securityContext/runAsUser`, 'pod must not set runAsUser=0');
    for (const r of x.containers) {
      if (r.sc?.runAsUser === 0) emit('pss.run-as-user', `${r.pointer}/securityContext/runAsUser`, `${cn(r)} must not set runAsUser=0`);
    }
  },
  'pss.capabilities-restricted': (x, emit) => {
    if (x.windows) return;
    for (const r of x.containers) {
      const caps = rec(r.sc?.capabilities);
      if (!list(caps?.drop).includes('ALL')) {
        emit('pss.capabilities-restricted', `${r.pointer}/securityContext/capabilities/drop`, `${cn(r)} must set securityContext.capabilities.drop=["ALL"]`);
      }
      list(caps?.add).forEach((cap, i) => {
        if (cap !== 'NET_BIND_SERVICE') {
          emit('pss.capabilities-restricted', `${r.pointer}/securityContext/capabilities/add/${i}`, `${cn(r)} may add only NET_BIND_SERVICE, not ${JSON.stringify(cap)}`);
        }
      });
    }
  },
};

/** Evaluate the Pod Security Standards at `level` on one pod spec. Pointers are relative to the object root. */
export function checkPodSecurity(loc: PodSpecLocation, level: PssLevel = 'restricted'): PssViolation[] {
  const out: PssViolation[] = [];
  const seen = new Set<string>();
  const x: Ctx = {
    loc,
    spec: loc.spec,
    podSc: rec(loc.spec.securityContext),
    containers: containersOf(loc),
    windows: rec(loc.spec.os)?.name === 'windows',
    userNamespace: loc.spec.hostUsers === false,
  };
  const emit: Emit = (rule, pointer, message) => {
    const key = `${rule}\u0000${pointer}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ rule, level: PSS_RULES[rule].level, pointer, message });
  };
  for (const id of rulesForLevel(level)) controls[id](x, emit);
  return out;
}
