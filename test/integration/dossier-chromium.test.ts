/**
 * The CRA file's HTML in a real browser: Debian's Chromium (headless, driven by playwright-core; no browser is
 * downloaded) opens the file `cra-gate dossier` wrote, with the network closed to everything but that file.
 * - it renders (a screenshot, checked as a real PNG of the page) and loads nothing from anywhere;
 * - it prints: the print stylesheet applies (A4, each part on a new page) and Chromium's PDF has several pages;
 * - it is accessible: axe-core (run inside the page) reports no WCAG 2.1 A/AA violation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { run } from '../../operator/cli/run.ts';
import type { CliIO } from '../../operator/cli/io.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function dossier(args: string[]): Promise<void> {
  let err = '';
  const io: CliIO = { stdout: { write: () => true, isTTY: false }, stderr: { write: (s: string) => (err += s), isTTY: false }, env: {}, cwd: repoRoot };
  const code = await run(['dossier', ...args], io);
  assert.ok(code === 0 || code === 1, `cra-gate dossier exited ${code}: ${err}`);
}

void describe('CRA file in Chromium', () => {
  let dir = '';
  let browser: Browser;
  let html = '';

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: bash test/tools/install-system.sh installs Debian's chromium`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'cra-dossier-html-'));
    html = path.join(dir, 'acme-firewall.html');
    await dossier(['examples/cra-file/acme-firewall-3.1.0.yaml', '-p', 'examples/cra-file/policy.yaml', '--offline', '--now', '2028-06-01T12:00:00Z', '--out', html]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  void it('renders on screen and loads nothing but itself', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 30_000 });
    assert.deepEqual(requests, [pathToFileURL(html).href]);
    assert.equal(await page.title(), 'CRA file: acme-firewall 3.1.0');
    assert.equal(await page.locator('h2').count(), 3);
    assert.match(await page.locator('header').innerText(), /verdict Approved/);
    const png = await page.screenshot({ fullPage: true, path: path.join(dir, 'screen.png') });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const height = png.readUInt32BE(20);
    assert.ok(png.readUInt32BE(16) === 1200 && height > 1500, `full-page screenshot ${png.readUInt32BE(16)}x${height}`);
    if (process.env.CRA_GATE_DOSSIER_SCREENSHOT) writeFileSync(process.env.CRA_GATE_DOSSIER_SCREENSHOT, png);
    await page.close();
  });

  void it('prints: A4, each part on a new page', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    await page.emulateMedia({ media: 'print' });
    // Runs in the page (DOM types are not in this project's lib).
    const breaks = await page.locator('h2').evaluateAll((hs) => hs.map((h) => (globalThis as unknown as { getComputedStyle(e: unknown): { breakBefore: string } }).getComputedStyle(h).breakBefore));
    assert.deepEqual(breaks, ['auto', 'page', 'page']);
    const pdf = await page.pdf({ preferCSSPageSize: true });
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    assert.ok(pages >= 3, `expected at least 3 printed pages, got ${pages}`);
    await page.close();
  });

  void it('is accessible (axe-core: no WCAG 2.1 A/AA violations)', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(html).href);
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; help: string; nodes: unknown[] }[]; passes: unknown[] }> } }).axe;
      const r = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return { violations: r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.length })), passes: r.passes.length };
    });
    assert.deepEqual(result.violations, []);
    assert.ok(result.passes > 5, 'axe ran its rules');
    await page.close();
  });
});
