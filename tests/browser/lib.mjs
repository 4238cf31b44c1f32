// tests/browser/lib.mjs - Debian's chromium under playwright-core for the dashboard's tests and
// benchmarks: launched headless with a fresh profile and nothing in the background, every page
// watched for console errors and for requests to any host but the stack's.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.PW_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
	const profile = mkdtempSync(join(tmpdir(), 'pitwall-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		acceptDownloads: true,
		viewport: { width: 1280, height: 800 },
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			// more flags for an experiment (PW_CHROMIUM_FLAGS, space-separated; the benchmark's
			// figures are measured without)
			...(process.env.PW_CHROMIUM_FLAGS || '').split(' ').filter(Boolean)],
	});
	const close = async () => {
		await context.close().catch(() => {});
		rmSync(profile, { recursive: true, force: true });
	};
	return { context, close, profile };
}

// Watch page: console errors, uncaught exceptions, requests to other hosts.
// allow(text) may excuse a console error (returns true).
export function watch(page, origin, allow = () => false) {
	const problems = [];
	const host = new URL(origin).host;
	page.on('console', (m) => {
		if (m.type() === 'error' && !allow(m.text(), m)) problems.push(`console error: ${m.text()} (${JSON.stringify(m.location())})`);
	});
	page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
	page.on('request', (r) => {
		const u = new URL(r.url());
		if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.host !== host) problems.push(`request to another host: ${r.url()}`);
	});
	page.on('websocket', (ws) => {
		const u = new URL(ws.url());
		if (u.host !== host) problems.push(`WebSocket to another host: ${ws.url()}`);
	});
	return problems;
}
