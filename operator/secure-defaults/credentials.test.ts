import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyValue, isSecretKey, looksRandom, scanManifest, scanSettings, shannonEntropy } from './credentials.ts';
import { parseManifests } from './parse.ts';

const ENTROPY = { entropy: true } as const;

describe('default-credential detection', () => {
  it('finds private keys and well-known token formats under any key', () => {
    const cases: [string, string][] = [
      ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----', 'credentials.private-key'],
      ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----', 'credentials.private-key'],
      ['-----BEGIN PRIVATE KEY-----', 'credentials.private-key'],
      ['AKIAQX4T7LZ2M5N8P3RK', 'credentials.token'],
      [`ghp_${'a1B2c3D4e5'.repeat(4)}`, 'credentials.token'],
      [`github_pat_${'11ABCDEFG0'.repeat(3)}`, 'credentials.token'],
      ['glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn', 'credentials.token'],
      ['xoxb-123456789012-abcdefABCDEF', 'credentials.token'],
      ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVl', 'credentials.token'],
      ['amqp://guest:guest@rabbitmq:5672/', 'credentials.url-password'],
    ];
    for (const [value, rule] of cases) assert.equal(classifyValue('note', value, { entropy: false })?.rule, rule, value.slice(0, 30));
  });

  it('flags default passwords and literal secrets under secret-like keys', () => {
    for (const key of ['password', 'DB_PASSWORD', 'adminPassword', 'root-pass', 'client_secret', 'apiKey', 'API-KEY', 'authToken', 'jwt.secret']) {
      assert.ok(isSecretKey(key), key);
    }
    for (const key of ['passwordFile', 'secretName', 'tokenTTL', 'secretKeyRef', 'password_min_length', 'bypass', 'keyFile', 'username', 'auth']) {
      assert.ok(!isSecretKey(key), key);
    }
    assert.equal(classifyValue('password', 'admin', ENTROPY)?.rule, 'credentials.default-password');
    assert.equal(classifyValue('POSTGRES_PASSWORD', 'Postgres', ENTROPY)?.rule, 'credentials.default-password');
    assert.equal(classifyValue('adminPassword', 'Tr0ub4dor&3', ENTROPY)?.rule, 'credentials.hardcoded-secret');
  });

  it('does not flag placeholders, references, digests, UUIDs, names, versions, URLs or certificates', () => {
    const benign: [string, string][] = [
      ['password', ''], ['password', '${DB_PASSWORD}'], ['password', '$(DB_PASSWORD)'], ['password', '{{ .Values.password }}'],
      ['password', '<set-me>'], ['password', '/run/secrets/db'], ['token', 'vault:secret/data/app#token'], ['secret', '********'],
      ['checksum/config', '8c1f0e9b7a6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b'],
      ['BUILD_COMMIT', '3f9a1c7be0d24e6f8a5b2c1d9e8f7a6b5c4d3e2f'],
      ['image', 'registry.acme.example/router@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b825dc642cb6eb9a060e54bf'],
      ['INSTANCE_ID', '6f1c2b9e-4d8a-4c1b-9a55-0d2f8e6b7c31'], ['host', 'acme-router-metrics.monitoring.svc.cluster.local'],
      ['version', '2.4.0-rc.1+build.20280115'], ['url', 'https://api.acme.example/v2?region=eu-central-1'],
      ['FEATURE_FLAGS', 'checkout,wishlist,recommendations'], ['sessionCookieName', 'ACME_ROUTER_SESSION_ID_V2'],
      ['ca.crt', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----'],
      ['DATABASE_URL', 'postgres://shop@db:5432/shop?sslmode=verify-full'], ['DATABASE_URL', 'postgres://shop:${DB_PASSWORD}@db/shop'],
      ['LOG_FORMAT', 'json'], ['username', 'admin'],
    ];
    for (const [key, value] of benign) assert.equal(classifyValue(key, value, ENTROPY), undefined, `${key}=${value.slice(0, 40)}`);
  });

  it('entropy: random tokens are secrets, words are not', () => {
    assert.ok(looksRandom('q8Zr2LmX7vKp4TnW9sYb3HcJ6fDg1QeA'));
    assert.ok(looksRandom('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'));
    assert.ok(!looksRandom('ThisIsAVeryLongCamelCaseIdentifier'));
    assert.ok(!looksRandom('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'));
    assert.ok(shannonEntropy('abcd') === 2);
  });

  it('scans env values, ConfigMaps, Secrets (base64-decoded) and settings, reporting pointers but never values', () => {
    const [secret, cm, deploy] = parseManifests([{
      name: 'm.yaml',
      text: [
        'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  tls.key: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg==\n  username: YWRtaW4=\n  blob: //79/A==\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  api.key: "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n  LOG_LEVEL: info\n',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, annotations: {note: "xoxb-123456789012-abcdefABCDEF"}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env:\n        - {name: GRAFANA_ADMIN_PASSWORD, value: prom-operator}\n        - {name: MODE, value: production}\n',
      ].join('---\n'),
    }]);
    assert.deepEqual(scanManifest(secret!).map((v) => [v.rule, v.pointer]), [['credentials.private-key', '/data/tls.key']]);
    assert.deepEqual(scanManifest(cm!).map((v) => [v.rule, v.pointer]), [['credentials.token', '/data/api.key']]);
    const d = scanManifest(deploy!);
    assert.deepEqual(d.map((v) => [v.rule, v.pointer]), [
      ['credentials.default-password', '/spec/template/spec/containers/0/env/0/value'],
      ['credentials.token', '/metadata/annotations/note'],
    ]);
    assert.ok(!JSON.stringify(d).includes('prom-operator') && !JSON.stringify(d).includes('xoxb-'));
    assert.deepEqual(scanSettings({ db: { password: 'root' }, listen: ':8080' }).map((v) => [v.rule, v.pointer]), [['credentials.default-password', '/db/password']]);
  });
});
