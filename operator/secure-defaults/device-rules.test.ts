/**
 * The device-default settings rules (policies/rules/settings-*.yaml): per rule, per key spelling and per value
 * spelling — over parsed JSON and over YAML read by the Kubernetes-compatible loader (so `telnet: on` and
 * `telnet: "On"` are the same finding). Unknown values for a known key are findings (fail closed).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuiltinRules } from '../evidence/secure-defaults.ts';
import { parseSettings } from './parse.ts';
import { analyze } from './analyze.ts';
import { applyRules, compileRules } from './rules.ts';

const builtin = compileRules(await loadBuiltinRules());
assert.deepEqual(builtin.errors, []);

/** `rule pointer` of every settings-rule finding (pointer relative to the file). */
function findings(data: unknown, only?: string): string[] {
  return applyRules(builtin.rules, [], [{ name: 'f', data }])
    .filter((v) => only === undefined || v.rule === only)
    .map((v) => `${v.rule} ${v.pointer.replace(/^\/settings\/f/, '') || '/'}`)
    .sort();
}
const yamlFindings = (text: string, only?: string): string[] => findings(parseSettings({ name: 'f.yaml', text }).data, only);

/** Value spellings: on, off, and neither (unknown → finding). */
const ON: readonly unknown[] = [true, 1, '1', 'true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'y', 'Y', 'on', 'On', 'ON', 'enabled', 'Enabled', 'ENABLED', 'enable', 'active', ' yes '];
const OFF: readonly unknown[] = [false, 0, '0', 'false', 'False', 'no', 'No', 'NO', 'n', 'off', 'Off', 'OFF', 'disabled', 'Disabled', 'disable', 'inactive', 'none'];
const UNKNOWN: readonly unknown[] = ['maybe', 'auto', 2, -1, '', null, [], ['on'], 'onn'];
/** YAML spellings as written in a file, unquoted and quoted (the loader turns YAML 1.1 booleans into booleans). */
const YAML_ON = ['yes', 'Yes', 'YES', 'y', 'Y', 'on', 'On', 'ON', 'true', 'True', '1', '"on"', '"On"', "'yes'", 'enabled', '"enabled"', 'Enabled'];
const YAML_OFF = ['no', 'No', 'n', 'N', 'off', 'Off', 'OFF', 'false', 'False', '0', '"off"', "'no'", 'disabled', '"Disabled"'];

/** A must-be-off switch: every key spelling × every value spelling. */
const SWITCHES: readonly { rule: string; keys: readonly string[] }[] = [
  { rule: 'settings.cleartext-admin-off', keys: ['telnet', 'telnetd', 'Telnet', 'telnet_enabled', 'telnetEnabled', 'telnet-enabled', 'enable_telnet', 'services.telnet.enabled', 'ftp', 'ftpd', 'tftp', 'ftp_server', 'enableFtp', 'admin_http', 'webui.http', 'management_http_enabled', 'services.http.enabled'] },
  { rule: 'settings.admin-not-exposed', keys: ['remote_management', 'remoteManagement', 'remote-admin', 'wan_access', 'wanAccess', 'allow_remote_admin', 'enableWanAccess', 'ssh_from_wan', 'admin_on_wan', 'wan_ssh', 'wan.http.access', 'internet_access'] },
  { rule: 'settings.wps-off', keys: ['wps', 'WPS', 'wps_enabled', 'wpsEnabled', 'wps_state', 'wps-pbc', 'enable_wps', 'wifi.wps', 'wifi_protected_setup'] },
  { rule: 'settings.upnp-off', keys: ['upnp', 'UPnP', 'upnpd', 'miniupnpd', 'upnp_enabled', 'upnpEnabled', 'enable_upnp', 'services.upnp.enabled', 'nat_pmp', 'natpmp', 'upnp_igd'] },
  { rule: 'settings.debug-interfaces-off', keys: ['jtag', 'JTAG', 'jtag_enabled', 'swd', 'serial_console', 'serialConsole', 'uart', 'uart_console', 'ttyS0_getty', 'getty', 'gdbserver', 'gdb_server', 'kgdb', 'adb', 'adbd', 'adb_tcp', 'adbOverNetwork', 'adb_port', 'usb_debugging', 'debug_port', 'debugPort', 'debug_shell', 'debug_uart', 'enable_jtag', 'expose_debug_port', 'remote_debugging'] },
];

describe('device-default settings rules: switches that must be off', () => {
  for (const { rule, keys } of SWITCHES) {
    it(`${rule}: every key spelling, with every on / off / unknown value spelling`, () => {
      for (const key of keys) {
        for (const v of ON) assert.deepEqual(findings({ [key]: v }, rule), [`${rule} /${key}`], `${key}: ${JSON.stringify(v)}`);
        for (const v of UNKNOWN) assert.deepEqual(findings({ [key]: v }, rule), [`${rule} /${key}`], `${key}: ${JSON.stringify(v)} is not recognisably off`);
        for (const v of OFF) assert.deepEqual(findings({ [key]: v }, rule), [], `${key}: ${JSON.stringify(v)}`);
      }
    });

    it(`${rule}: YAML spellings, unquoted and quoted, through the Kubernetes-compatible loader`, () => {
      const key = keys[0]!;
      for (const v of YAML_ON) assert.deepEqual(yamlFindings(`${key}: ${v}\n`, rule), [`${rule} /${key}`], `${key}: ${v}`);
      for (const v of YAML_OFF) assert.deepEqual(yamlFindings(`${key}: ${v}\n`, rule), [], `${key}: ${v}`);
      assert.deepEqual(yamlFindings(`${key}:\n`, rule), [`${rule} /${key}`], 'an empty value is not off');
    });

    it(`${rule}: a section must say it is off (enabled: off, or disabled: on); nested at any depth`, () => {
      const key = keys[0]!;
      assert.deepEqual(findings({ device: { [key]: { enabled: 'On', port: 23 } } }, rule), [`${rule} /device/${key}/enabled`]);
      assert.deepEqual(findings({ device: [{ [key]: { Enabled: 'yes' } }] }, rule), [`${rule} /device/0/${key}/Enabled`]);
      assert.deepEqual(findings({ device: { [key]: { port: 23 } } }, rule), [`${rule} /device/${key}`], 'no enabled flag: not recognisably off');
      assert.deepEqual(findings({ device: { [key]: { enabled: false, port: 23 } } }, rule), []);
      assert.deepEqual(findings({ device: { [key]: { disabled: 'yes' } } }, rule), []);
      assert.deepEqual(findings({ device: { [key]: { disabled: false } } }, rule), [`${rule} /device/${key}/disabled`]);
    });
  }

  it('the classic insecure router defaults, one finding each, and the hardened counterpart passes', () => {
    const insecure = yamlFindings(`
services:
  telnet: {enabled: yes}
  http: {enabled: on, port: 80}
  ftp: off
  upnp: On
admin:
  password: ""
  protocols: [http, https]
remote_management: 1
wifi:
  ssid: Acme-Setup
  security: open
  wps: enabled
ssh:
  PermitRootLogin: yes
jtag: "on"
`);
    assert.deepEqual(insecure, [
      'settings.admin-not-exposed /remote_management',
      'settings.cleartext-admin-off /admin/protocols/0',
      'settings.cleartext-admin-off /services/http/enabled',
      'settings.cleartext-admin-off /services/telnet/enabled',
      'settings.debug-interfaces-off /jtag',
      'settings.no-empty-password /admin/password',
      'settings.ssh-root-password-login-off /ssh/PermitRootLogin',
      'settings.upnp-off /services/upnp',
      'settings.wifi-encrypted /wifi/security',
      'settings.wps-off /wifi/wps',
    ]);
    const hardened = yamlFindings(`
services:
  telnet: {enabled: no}
  http: {enabled: off}
  https: {enabled: on, bind: 192.168.1.1:443}
  ftp: off
  upnp: Off
admin:
  password: <set-on-first-use>
  protocols: [https, ssh]
  listen: [127.0.0.1, "[::1]:8443", br-lan]
remote_management: no
wifi:
  ssid: Acme-Setup
  security: WPA2-Personal
  wps: disabled
ssh:
  PermitRootLogin: prohibit-password
  ListenAddress: 192.168.1.1
jtag: "off"
`);
    assert.deepEqual(hardened, []);
  });
});

describe('settings.admin-not-exposed: bind addresses of administration services', () => {
  const rule = 'settings.admin-not-exposed';
  const EXPOSED = ['0.0.0.0', '0.0.0.0:22', '::', '[::]', '[::]:443', '*', '*:80', ':22', '', 'any', 'all', 'wan', 'WAN', 'eth0', 'ppp0', '203.0.113.7', '8.8.8.8:80', 'lan,wan', 'example.com'];
  const LOCAL = ['127.0.0.1', '127.0.0.1:8080', 'localhost', 'localhost:22', '::1', '[::1]:22', '192.168.1.1', '10.0.0.1:22', '172.16.0.1', '172.31.255.1:443', 'fd00::1', '[fd12:3456::1]:22', 'fe80::1%br-lan', 'lan', 'LAN', 'br-lan', 'lo', 'unix:/run/admin.sock', '/run/webui.sock'];
  const sections = ['admin', 'management', 'webui', 'web_ui', 'ssh', 'sshd', 'dropbear', 'telnet', 'web_admin', 'mgmt'];
  const keys = ['bind', 'bind_address', 'bindAddress', 'listen', 'listen_address', 'ListenAddress', 'address', 'host', 'interface', 'interfaces', 'zone'];

  it('in an administration section, every bind key: all-interfaces / WAN / public / unknown values are findings', () => {
    for (const section of sections) {
      for (const key of keys) {
        for (const v of EXPOSED) assert.deepEqual(findings({ [section]: { [key]: v } }, rule), [`${rule} /${section}/${key}`], `${section}.${key}: ${v}`);
        for (const v of LOCAL) assert.deepEqual(findings({ [section]: { [key]: v } }, rule), [], `${section}.${key}: ${v}`);
      }
    }
  });

  it('flat keys, lists (every element must be local) and non-strings', () => {
    for (const key of ['admin_bind', 'adminListen', 'ssh_listen_address', 'webui.listen', 'management-bind-address', 'ssh_interfaces']) {
      assert.deepEqual(findings({ [key]: '0.0.0.0' }, rule), [`${rule} /${key}`], key);
      assert.deepEqual(findings({ [key]: '127.0.0.1' }, rule), [], key);
    }
    assert.deepEqual(findings({ ssh: { listen: ['127.0.0.1', 'wan'] } }, rule), [`${rule} /ssh/listen/1`]);
    assert.deepEqual(findings({ ssh: { listen: [] } }, rule), [`${rule} /ssh/listen`]);
    assert.deepEqual(findings({ ssh: { listen: 22 } }, rule), [`${rule} /ssh/listen`]);
    assert.deepEqual(findings({ services: { ssh: { bind: '0.0.0.0' } } }, rule), [`${rule} /services/ssh/bind`]);
  });

  it('an application server that is not an administration service is not judged by this rule', () => {
    assert.deepEqual(findings({ server: { listen: ':8443' }, metrics: { listen: '0.0.0.0:9090' } }, rule), []);
  });
});

describe('settings.no-empty-password', () => {
  const rule = 'settings.no-empty-password';
  it('empty, blank or null passwords are findings; placeholders and references are not (literal ones are credentials findings)', () => {
    for (const key of ['password', 'Password', 'admin_password', 'adminPassword', 'root-passwd', 'passphrase', 'wpa_passphrase', 'pwd', 'psk', 'pre_shared_key', 'wifi.password']) {
      for (const v of ['', '   ', null]) assert.deepEqual(findings({ x: { [key]: v } }, rule), [`${rule} /x/${key}`], `${key}: ${JSON.stringify(v)}`);
      for (const v of ['<set-on-first-use>', '${ADMIN_PASSWORD}', 'vault:secret/admin']) assert.deepEqual(findings({ x: { [key]: v } }, rule), [], `${key}: ${v}`);
    }
    assert.deepEqual(yamlFindings('admin:\n  password:\n', rule), [`${rule} /admin/password`]);
    assert.deepEqual(yamlFindings('admin:\n  password: ~\n', rule), [`${rule} /admin/password`]);
  });

  it('allowing empty passwords, or not requiring one, is a finding', () => {
    for (const key of ['PermitEmptyPasswords', 'permit_empty_passwords', 'allowEmptyPassword', 'allow_blank_password', 'empty_password_allowed', 'nullok']) {
      assert.deepEqual(findings({ [key]: 'yes' }, rule), [`${rule} /${key}`], key);
      assert.deepEqual(findings({ [key]: 'maybe' }, rule), [`${rule} /${key}`], key);
      assert.deepEqual(findings({ [key]: false }, rule), [], key);
    }
    for (const key of ['password_required', 'requirePassword', 'require-password', 'passwordEnabled']) {
      assert.deepEqual(findings({ [key]: 'no' }, rule), [`${rule} /${key}`], key);
      assert.deepEqual(findings({ [key]: 'On' }, rule), [], key);
    }
    assert.deepEqual(yamlFindings('PermitEmptyPasswords: yes\n', rule), [`${rule} /PermitEmptyPasswords`]);
  });

  it('the credentials scanner still flags literal and well-known passwords (not this rule)', () => {
    const out = analyze({ manifests: [], settings: [{ name: 'f', data: { admin: { password: 'admin' } } }], rules: builtin.rules });
    assert.deepEqual(out.map((f) => f.rule), ['credentials.default-password']);
  });
});

describe('settings.wifi-encrypted', () => {
  const rule = 'settings.wifi-encrypted';
  const WEAK = ['open', 'Open', 'none', 'NONE', 'wep', 'WEP', 'wep-open', 'wpa', 'WPA', 'psk', 'wpa-psk', 'WPA-Personal', 'psk-mixed', 'wpa/wpa2', 'WPA/WPA2 mixed', 'psk2+tkip', 'wpa2-psk-tkip', 'wpa1', 'maybe', ''];
  const STRONG = ['wpa2', 'WPA2', 'psk2', 'psk2+ccmp', 'wpa2-psk', 'WPA2-Personal', 'WPA2-Enterprise', 'wpa3', 'WPA3-SAE', 'sae', 'sae-mixed', 'wpa2/wpa3', 'WPA2/WPA3 transition', 'owe', '802.1X'];
  const sections = ['wifi', 'WiFi', 'wi-fi', 'wlan', 'wlan0', 'wireless', 'access_point', 'ap', 'hotspot', 'guest_wifi', 'hostapd'];
  const keys = ['security', 'securityMode', 'security_type', 'encryption', 'encryption_mode', 'auth', 'authMode', 'auth_mode', 'authentication'];

  it('every section and key spelling: weak or unknown modes are findings, WPA2/WPA3 passes', () => {
    for (const section of sections) {
      for (const key of keys) {
        for (const v of WEAK) assert.deepEqual(findings({ [section]: { [key]: v } }, rule), [`${rule} /${section}/${key}`], `${section}.${key}: ${v}`);
        for (const v of STRONG) assert.deepEqual(findings({ [section]: { [key]: v } }, rule), [], `${section}.${key}: ${v}`);
      }
    }
  });

  it('non-strings, nested networks, security sections, hostapd keys', () => {
    assert.deepEqual(findings({ wifi: { security: false } }, rule), [`${rule} /wifi/security`]);
    assert.deepEqual(yamlFindings('wifi:\n  encryption: off\n', rule), [`${rule} /wifi/encryption`]);
    assert.deepEqual(findings({ wifi: { networks: [{ ssid: 'a', security: 'wpa3' }, { ssid: 'guest', security: 'open' }] } }, rule), [`${rule} /wifi/networks/1/security`]);
    assert.deepEqual(findings({ wireless: { radio0: { iface: { encryption: 'none' } } } }, rule), [`${rule} /wireless/radio0/iface/encryption`]);
    assert.deepEqual(findings({ wifi: { security: { mode: 'WPA3-Personal' } } }, rule), []);
    assert.deepEqual(findings({ wifi: { security: { mode: 'wep' } } }, rule), [`${rule} /wifi/security/mode`]);
    assert.deepEqual(findings({ wifi: { security: { psk: '<set>' } } }, rule), [`${rule} /wifi/security`], 'a security section without a mode');
    assert.deepEqual(findings({ hostapd: { wpa: 2, wpa_key_mgmt: 'WPA-PSK SAE' } }, rule), []);
    assert.deepEqual(findings({ hostapd: { wpa: 1, wpa_key_mgmt: 'NONE' } }, rule), [`${rule} /hostapd/wpa`, `${rule} /hostapd/wpa_key_mgmt`]);
    assert.deepEqual(findings({ hostapd: { wpa: 0 } }, rule), [`${rule} /hostapd/wpa`]);
    for (const v of ON) assert.deepEqual(findings({ wifi: { open: v } }, rule), [`${rule} /wifi/open`], JSON.stringify(v));
    for (const v of OFF) assert.deepEqual(findings({ wifi: { encrypted: v } }, rule), [`${rule} /wifi/encrypted`], JSON.stringify(v));
    assert.deepEqual(findings({ wifi: { encrypted: 'yes', open: 'no' } }, rule), []);
  });

  it('security keys outside a Wi-Fi section are not Wi-Fi settings', () => {
    assert.deepEqual(findings({ server: { security: 'none' } }, rule), []);
  });
});

describe('settings.ssh-root-password-login-off', () => {
  const rule = 'settings.ssh-root-password-login-off';
  it('PermitRootLogin spellings, flat or dotted anywhere, or root-login keys in an ssh section', () => {
    for (const key of ['PermitRootLogin', 'permitRootLogin', 'permit_root_login', 'ssh.permitRootLogin', 'sshd_permit_root_login']) {
      for (const v of ['yes', 'Yes', true, 'on', 1, 'maybe', null]) assert.deepEqual(findings({ [key]: v }, rule), [`${rule} /${key}`], `${key}: ${JSON.stringify(v)}`);
      for (const v of ['no', false, 'prohibit-password', 'without-password', 'forced-commands-only', 'Off']) assert.deepEqual(findings({ [key]: v }, rule), [], `${key}: ${JSON.stringify(v)}`);
    }
    for (const section of ['ssh', 'sshd', 'SSH', 'openssh', 'dropbear', 'ssh_server']) {
      for (const key of ['PermitRootLogin', 'root_login', 'rootLogin', 'allow_root_login', 'root_access']) {
        assert.deepEqual(findings({ [section]: { [key]: 'yes' } }, rule), [`${rule} /${section}/${key}`], `${section}.${key}`);
        assert.deepEqual(findings({ [section]: { [key]: 'no' } }, rule), [], `${section}.${key}`);
      }
    }
    assert.deepEqual(yamlFindings('ssh:\n  PermitRootLogin: yes\n', rule), [`${rule} /ssh/PermitRootLogin`]);
    assert.deepEqual(yamlFindings('ssh:\n  PermitRootLogin: "Yes"\n', rule), [`${rule} /ssh/PermitRootLogin`]);
  });

  it('root login with keys only (password authentication off in the same section) passes', () => {
    assert.deepEqual(findings({ ssh: { PermitRootLogin: 'yes', PasswordAuthentication: 'no' } }, rule), []);
    assert.deepEqual(yamlFindings('sshd:\n  permitRootLogin: on\n  passwordAuthentication: off\n', rule), []);
    assert.deepEqual(findings({ ssh: { PermitRootLogin: 'yes', PasswordAuthentication: 'yes' } }, rule), [`${rule} /ssh/PermitRootLogin`]);
    assert.deepEqual(findings({ ssh: { PermitRootLogin: 'yes', PasswordAuthentication: 'maybe' } }, rule), [`${rule} /ssh/PermitRootLogin`]);
  });

  it("dropbear's RootPasswordAuth and an sshd_config text", () => {
    for (const key of ['RootPasswordAuth', 'root_password_auth', 'dropbear.RootPasswordAuth']) {
      assert.deepEqual(findings({ [key]: 'on' }, rule), [`${rule} /${key}`], key);
      assert.deepEqual(findings({ [key]: '0' }, rule), [], key);
    }
    assert.deepEqual(findings({ sshd_config: 'Port 22\npermitrootlogin yes\n' }, rule), [`${rule} /sshd_config`]);
    assert.deepEqual(findings({ sshd_config: 'Port 22\nPermitRootLogin yes\nPasswordAuthentication no\n' }, rule), []);
    assert.deepEqual(findings({ sshd_config: 'PermitRootLogin prohibit-password\n' }, rule), []);
  });
});

describe('every new rule states its CRA text and its guidance apart', () => {
  it('cra lists Annex I Part I(2) points only; standards carry ETSI EN 303 645 provisions', () => {
    for (const r of builtin.rules.filter((x) => ['admin-not-exposed', 'cleartext-admin-off', 'debug-interfaces-off', 'no-empty-password', 'ssh-root-password-login-off', 'upnp-off', 'wifi-encrypted', 'wps-off'].some((s) => x.id === `settings.${s}`))) {
      assert.ok(r.cra.length > 0 && r.cra.every((c) => /^Annex I Part I\(2\)\([a-m]\)$/.test(c)), `${r.id}: ${r.cra.join(', ')}`);
      assert.ok(r.standards.length > 0 && r.standards.every((s) => /^ETSI EN 303 645 V2\.1\.1 5\.\d+-\d+$/.test(s)), `${r.id}: ${r.standards.join(', ')}`);
    }
    const f = analyze({ manifests: [], settings: [{ name: 'f', data: { upnp: true } }], rules: builtin.rules });
    assert.deepEqual(f.map((x) => [x.rule, x.standards]), [['settings.upnp-off', ['ETSI EN 303 645 V2.1.1 5.6-1', 'ETSI EN 303 645 V2.1.1 5.6-5']]]);
  });
});

describe('the earlier settings rules understand the same value spellings', () => {
  it('debug / telemetry must not be on; TLS / authentication must not be off — in every spelling', () => {
    for (const v of ON) {
      assert.deepEqual(findings({ debug: v }, 'settings.debug-off'), ['settings.debug-off /debug'], JSON.stringify(v));
      assert.deepEqual(findings({ telemetry: { enabled: v } }, 'settings.telemetry-opt-in'), ['settings.telemetry-opt-in /telemetry/enabled'], JSON.stringify(v));
      assert.deepEqual(findings({ tls: { enabled: v } }, 'settings.tls-enabled'), [], JSON.stringify(v));
    }
    for (const v of OFF) {
      assert.deepEqual(findings({ tls: { enabled: v } }, 'settings.tls-enabled'), ['settings.tls-enabled /tls/enabled'], JSON.stringify(v));
      assert.deepEqual(findings({ auth: v }, 'settings.auth-enabled'), ['settings.auth-enabled /auth'], JSON.stringify(v));
      assert.deepEqual(findings({ debug: v }, 'settings.debug-off'), [], JSON.stringify(v));
    }
    assert.deepEqual(yamlFindings('debug: On\ntls: {enabled: No}\n').filter((f) => !f.startsWith('settings.debug-interfaces')), ['settings.debug-off /debug', 'settings.tls-enabled /tls/enabled']);
  });
});

describe('debug and telemetry switches fail closed too', () => {
  it('an unknown value or a section without an enabled flag is a finding', () => {
    for (const v of UNKNOWN) {
      assert.deepEqual(findings({ debug: v }, 'settings.debug-off'), ['settings.debug-off /debug'], JSON.stringify(v));
      assert.deepEqual(findings({ telemetry: v }, 'settings.telemetry-opt-in'), ['settings.telemetry-opt-in /telemetry'], JSON.stringify(v));
    }
    assert.deepEqual(findings({ telemetry: { endpoint: 'https://t.example' } }, 'settings.telemetry-opt-in'), ['settings.telemetry-opt-in /telemetry']);
    assert.deepEqual(findings({ telemetry: { optIn: false, endpoint: 'https://t.example' } }, 'settings.telemetry-opt-in'), []);
    assert.deepEqual(findings({ telemetry_enabled: 'auto' }, 'settings.telemetry-opt-in'), ['settings.telemetry-opt-in /telemetry_enabled']);
    assert.deepEqual(findings({ do_not_track: 'maybe' }, 'settings.telemetry-opt-in'), ['settings.telemetry-opt-in /do_not_track']);
    assert.deepEqual(findings({ debug: { enabled: false, port: 0 } }, 'settings.debug-off'), []);
  });
});
