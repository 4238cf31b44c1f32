// tests/browser/dashboard.mjs - the dashboard in a real headless browser (Debian's chromium under
// playwright-core) against the real stack that tests/integration/test_dashboard.sh started:
//   - the live view shows the emulator's car moving (speed and gear change, the map's dot moves);
//   - a whole session from the browser: create general, start a run, drive 2 laps (pw-sim --fast),
//     stop, complete, the laps table and the per-corner chart; compare two laps (the delta chart's
//     last value equals the lap-time difference shown); export a lap to CSV and MoTeC (the files
//     downloaded equal the API's);
//   - every view at 1280x800 and 768x1024 without horizontal scrolling, screenshots in $PW_SHOTS;
//   - the store stopped and started again ("store unavailable", then recovered); a feed going
//     stale, then down;
//   - with PITWALL_API_TOKEN: the page asks for the token and then works.
// Any console error, uncaught exception or request to another host fails the run.
// Prints PASS/FAIL lines (tests/run.sh counts them). Environment: see test_dashboard.sh.
import { spawn } from 'node:child_process';
import { readFileSync, appendFileSync, openSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, watch } from './lib.mjs';

const E = process.env;
const URL0 = E.PW_URL;
const BIN = E.PW_BIN;
const SHOTS = E.PW_SHOTS;
let failed = 0;
const pass = (name) => console.log(`PASS ${name}`);
const fail = (name, why) => {
	failed++;
	console.log(`FAIL ${name}${why ? `: ${why}` : ''}`);
};
const check = (name, ok, why) => (ok ? pass(name) : fail(name, why));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(path, method = 'GET', body) {
	const r = await fetch(URL0 + path, { method, body: body ? JSON.stringify(body) : undefined });
	const t = await r.text();
	if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${t}`);
	return t ? JSON.parse(t) : null;
}

function sim(feed, port, mode, laps) {
	return new Promise((resolve, reject) => {
		const p = spawn(join(BIN, 'pw-sim'), ['--feed', feed, '--port', String(port), '--mode', mode, '--laps', String(laps),
			'--rate', '60', '--fast', '--seed', '3', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
		let err = '';
		p.stderr.on('data', (d) => (err += d));
		p.on('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`pw-sim ${mode} exited ${code}: ${err}`))));
	});
}

// Until fn() is truthy (polled every 100 ms) or ms pass; returns its last value.
async function until(ms, fn) {
	const end = Date.now() + ms;
	let v;
	while (!(v = await fn()) && Date.now() < end) await sleep(100);
	return v;
}

// A run on feed driven by the emulator, over the API (the setup of the other sessions).
async function apiRun(sid, feed, port, mode, laps, label) {
	const run = await api(`/api/sessions/${sid}/runs`, 'POST', { feed_name: feed, label });
	const before = await api('/api/feeds');
	const f0 = before.find((f) => f.feed === feed).frames;
	const err = await sim(feed, port, mode, laps);
	const sent = Number((err.match(/frames=(\d+)/g) || ['frames=0']).pop().slice(7));
	await until(15000, async () => (await api('/api/feeds')).find((f) => f.feed === feed).frames - f0 >= sent);
	return api(`/api/sessions/${sid}/runs/${run.id}/stop`, 'POST');
}

async function setup() {
	const FZ = E.PW_FORZA_PORT;
	// a track model of the emulator's track on forza (per-corner times), a car's characteristics
	// (Forza's packets are small: a lap sent as fast as possible fits the capture's buffer)
	const tm = await api('/api/sessions', 'POST', { use_case: 'track_mapping', label: 'map' });
	await apiRun(tm.id, 'forza', FZ, 'left', 1, 'left');
	await apiRun(tm.id, 'forza', FZ, 'right', 1, 'right');
	await api(`/api/sessions/${tm.id}/complete`, 'POST');
	const model = await api('/api/tracks/build', 'POST', { session_id: tm.id });
	const sp = await api('/api/sessions', 'POST', { use_case: 'shift_points', label: 'pulls' });
	await apiRun(sp.id, 'forza', FZ, 'pulls', 3, 'pulls');
	await api(`/api/sessions/${sp.id}/complete`, 'POST');
	await until(30000, async () => !(await api(`/api/sessions/${sp.id}/analysis`)).status);
	await api('/api/recordings', 'POST', { name: 'a recording' });
	await sleep(300);
	await api('/api/recordings/stop', 'POST');
	return { model, sp };
}

// No horizontal scrolling, then a screenshot.
async function shot(page, name, w, hgt) {
	await page.setViewportSize({ width: w, height: hgt });
	await sleep(400);
	const sw = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
	check(`${name} at ${w}x${hgt}: no horizontal scrolling`, sw[0] <= sw[1], `scrollWidth ${sw[0]} > ${sw[1]}`);
	await page.screenshot({ path: join(SHOTS, `${name}-${w}x${hgt}.png`), fullPage: true });
}

async function main() {
	mkdirSync(SHOTS, { recursive: true });
	const { model } = await setup();
	pass('setup over the API: a track model of the emulator\'s track, a car\'s characteristics, a recording');
	const { context, close } = await launch();
	const page = await context.newPage();
	let storeDown = false;
	// While the store is down on purpose the page may see 503s: those and nothing else are excused.
	const problems = watch(page, URL0, (text) => storeDown && /status of 503/.test(text));

	// --- live -----------------------------------------------------------------------------
	await page.goto(`${URL0}/#/live/ksudp`);
	const live = await until(10000, () => page.evaluate(() => /^\d/.test(document.getElementById('live-speed')?.textContent || '')));
	check('live: the first value arrives', live);
	const samples = [];
	for (let i = 0; i < 20; i++) {
		samples.push(await page.evaluate(() => ({
			speed: document.getElementById('live-speed').textContent,
			gear: document.getElementById('live-gear').textContent,
			dot: document.getElementById('live-map').dataset.dot || '',
		})));
		await sleep(100);
	}
	const speeds = new Set(samples.map((s) => s.speed));
	check('live: the speed changes over two seconds', speeds.size >= 3, [...speeds].join(' '));
	const dots = samples.map((s) => s.dot.split(',').map(Number)).filter((p) => p.length === 2 && p.every(Number.isFinite));
	const moved = dots.length > 1 && Math.hypot(dots[0][0] - dots[dots.length - 1][0], dots[0][1] - dots[dots.length - 1][1]);
	check('live: the car\'s dot moves on the map over two seconds', moved > 5, `moved ${moved} m`);
	// the gear changes within two seconds somewhere in the lap (the emulator shifts every few seconds)
	let gearOk = false;
	for (let w = 0; w < 8 && !gearOk; w++) {
		const gears = new Set();
		for (let i = 0; i < 20; i++) {
			gears.add(await page.evaluate(() => document.getElementById('live-gear').textContent));
			await sleep(100);
		}
		gearOk = gears.size >= 2;
	}
	check('live: the gear changes over two seconds', gearOk);
	const hz = await page.evaluate(() => [...document.querySelectorAll('.health div')].map((d) => d.textContent).find((t) => t.startsWith('telemetry here')));
	const hzv = Number(((hz || '').match(/([\d.]+) Hz/) || [])[1]);
	check('live: telemetry arrives at the requested 60 Hz (the feed\'s rate)', hzv >= 50 && hzv <= 70, hz);

	// --- a whole session from the browser ---------------------------------------------------
	await page.goto(`${URL0}/#/sessions`);
	await page.waitForSelector('#new-use-case option[value="general"]', { state: 'attached' });
	await page.selectOption('#new-use-case', 'general');
	await page.fill('#new-label', 'browser session');
	await page.click('#new-create');
	await page.waitForSelector('#session-guidance');
	const sid = page.url().split('/').pop();
	check('sessions: created from the browser, its guidance shown', /^[0-9a-f-]{36}$/.test(sid), page.url());
	await page.waitForSelector('#run-feed option[value="forza"]', { state: 'attached' });
	await page.selectOption('#run-feed', 'forza');
	await page.fill('#run-label', 'stint');
	await page.click('#run-start');
	await page.waitForSelector('.run-stop', { timeout: 10000 });
	const f0 = (await api('/api/feeds')).find((f) => f.feed === 'forza').frames;
	const err = await sim('forza', E.PW_FORZA_PORT, 'laps', 2);
	const sent = Number((err.match(/frames=(\d+)/g) || ['frames=0']).pop().slice(7));
	await until(15000, async () => (await api('/api/feeds')).find((f) => f.feed === 'forza').frames - f0 >= sent);
	// the run's frame count counts up live on the page (the stream, no polling)
	const counted = await until(5000, () => page.evaluate((n) => {
		const c = document.querySelector('.run-frames');
		return c && Number(c.textContent.replace(/,/g, '')) >= n ? c.textContent : null;
	}, sent));
	check(`sessions: the recording run's live frame count reaches the ${sent} frames sent`, counted, counted);
	await page.click('.run-stop');
	await page.waitForSelector('#session-complete:not([disabled])', { timeout: 10000 });
	await page.click('#session-complete');
	const analysed = await page.waitForSelector('#laps-table tbody tr', { timeout: 30000 }).then(() => true, () => false);
	const lapRows = await page.$$eval('#laps-table tbody tr', (r) => r.length);
	check('sessions: completed, the analysis shows the laps table', analysed && lapRows >= 2, `${lapRows} rows`);
	const cornerChart = await page.waitForSelector('#corner-chart canvas', { timeout: 5000 }).then(() => true, () => false);
	check('sessions: the per-corner chart is drawn', cornerChart);
	// the race engineer's findings read as sentences: each caveat ends with its full stop
	const caveats = await page.$$eval('.finding .caveats', (els) => els.map((e) => e.textContent));
	check('sessions: the race engineer\'s caveats read as sentences', caveats.length > 0 && caveats.every((t) => /[.!?]$/.test(t)),
		JSON.stringify(caveats));
	await shot(page, 'session', 1280, 800);
	await shot(page, 'session', 768, 1024);
	await page.setViewportSize({ width: 1280, height: 800 });

	// laps and compare
	await page.click('#session-laps');
	await page.waitForSelector('.lap-pick');
	await page.locator('.lap-pick').nth(0).check();
	await page.locator('.lap-pick').nth(1).check();
	// the reference: the fastest valid lap picked (the first lap here starts standing)
	const refPick = await page.evaluate(() => {
		const rows = [...document.querySelectorAll('table tbody tr')].filter((r) => r.querySelector('.lap-pick:checked'));
		const ms = (t) => { const m = /(\d+):(\d+)\.(\d+)/.exec(t); return m ? (+m[1] * 60 + +m[2]) * 1000 + +m[3] : Infinity; };
		const col = rows.length ? [...rows[0].closest('table').querySelectorAll('thead th')].findIndex((th) => th.textContent.trim() === 'time') : -1;
		const laps = rows.map((r) => ({ lap: r.querySelector('.lap-pick').dataset.lap, valid: [...r.querySelectorAll('.pill')].some((p) => p.textContent.trim() === 'valid'),
			ms: ms(r.querySelectorAll('td')[col]?.textContent || '') }));
		const valid = laps.filter((l) => l.valid).sort((a, b) => a.ms - b.ms);
		const checked = document.querySelector('.lap-ref:checked');
		return { want: (valid[0] || laps[0] || {}).lap, got: checked && checked.dataset.lap, laps };
	});
	check('laps: the reference defaults to the fastest valid lap picked', refPick.want && refPick.got === refPick.want, JSON.stringify(refPick));
	await page.click('#laps-compare');
	const cmp = await page.waitForSelector('#chart-delta canvas', { timeout: 20000 }).then(() => true, async () => {
		fail('compare: the charts are drawn', await page.evaluate(() => document.getElementById('view').textContent.slice(0, 300)));
		return false;
	});
	if (cmp) {
		const d = await page.evaluate(() => ({
			last: JSON.parse(document.getElementById('chart-delta').dataset.last),
			shown: [...document.querySelectorAll('.lap-diff')].map((e) => e.textContent),
			diff: [...document.querySelectorAll('.lap-diff')].map((e) => e.dataset.diff),
		}));
		const shownDiff = Number(d.shown[1].replace('−', '-'));
		check('compare: the delta chart\'s last value equals the lap-time difference shown (10 ms)',
			Number.isFinite(d.last[1]) && Math.abs(d.last[1] - shownDiff) <= 0.0105, JSON.stringify(d));
		// a toast (as after "Session created") covers nothing of the values at the cursor
		for (const [w, hgt] of [[1280, 800], [768, 1024]]) {
			await page.setViewportSize({ width: w, height: hgt });
			await page.evaluate(async () => (await import('/js/dom.js')).toast('Session created: a toast of two lines, to cover as much as a long one does'));
			await sleep(200);
			const o = await page.evaluate(() => {
				const t = [...document.querySelectorAll('#toasts .toast')].pop().getBoundingClientRect();
				const c = document.getElementById('cursor-values').getBoundingClientRect();
				return { toast: [t.left, t.top, t.right, t.bottom].map(Math.round), table: [c.left, c.top, c.right, c.bottom].map(Math.round),
					overlap: t.left < c.right && c.left < t.right && t.top < c.bottom && c.top < t.bottom };
			});
			check(`compare at ${w}x${hgt}: a toast does not cover the values at the cursor`, !o.overlap, JSON.stringify(o));
			await page.evaluate(() => document.getElementById('toasts').replaceChildren());
		}
		await shot(page, 'compare', 1280, 800);
		await shot(page, 'compare', 768, 1024);
		await page.setViewportSize({ width: 1280, height: 800 });
		// exports of the first lap of the comparison: the files are the API's
		for (const fmt of ['csv', 'ld']) try {
			const btn = await page.$(`#view .export button[data-export="${fmt}"]`);
			const lap = await btn.getAttribute('data-lap');
			const want = fmt === 'ld' ? ['ld', 'ldx'] : ['csv'];
			const downloads = [];
			const onDl = (dl) => downloads.push(dl);
			page.on('download', onDl);
			await btn.click();
			await until(15000, () => downloads.length >= want.length);
			page.off('download', onDl);
			const run = await page.evaluate(() => [...document.querySelectorAll('#view .export button')].length);
			let same = downloads.length === want.length;
			const why = [];
			for (const dl of downloads) {
				const got = readFileSync(await dl.path());
				const u = new URL(dl.url(), URL0);
				const ref = Buffer.from(await (await fetch(`${URL0}${u.pathname}${u.search}`)).arrayBuffer());
				const fm = u.searchParams.get('format');
				if (!got.equals(ref) || !want.includes(fm) || u.searchParams.get('lap') !== lap || got.length < 100) {
					same = false;
					why.push(`${fm}: ${got.length} vs ${ref.length} bytes`);
				}
			}
			check(`compare: export lap ${lap} to ${fmt === 'ld' ? 'MoTeC (.ld and .ldx)' : 'CSV'}: the downloaded files equal the API's`, same && run > 0,
				`${downloads.length} downloads ${why.join('; ')}`);
		} catch (e) {
			fail(`compare: export a lap to ${fmt}`, e.message);
		}
	}

	// --- a recording from the browser: start, stop, the pcap download is the API's ------------
	await page.goto(`${URL0}/#/recordings`);
	await page.waitForSelector('#rec-start:not([disabled])');
	await page.fill('#rec-name', 'from the browser');
	await page.click('#rec-start');
	await page.waitForSelector('#rec-stop', { timeout: 10000 });
	await sleep(500);
	await page.click('#rec-stop');
	await until(10000, () => page.evaluate(() => !document.getElementById('rec-stop') && !!document.querySelector('.tbl tbody tr button.small')));
	const pcapBtn = page.locator('.tbl tbody tr', { hasText: 'from the browser' }).locator('button', { hasText: 'ksudp.pcap' });
	const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), pcapBtn.click()]);
	const got = readFileSync(await dl.path());
	const recs = await api('/api/recordings');
	const rec = recs.find((r) => r.name === 'from the browser');
	const want = Buffer.from(await (await fetch(`${URL0}/api/recordings/${rec.id}/data/ksudp`)).arrayBuffer());
	check('recordings: started and stopped from the browser, the pcap downloaded is the API\'s', got.length > 24 && got.equals(want),
		`${got.length} vs ${want.length} bytes`);

	// --- every view, two sizes --------------------------------------------------------------
	const views = [
		['live', '#/live/ksudp'], ['sessions', '#/sessions'], ['laps', `#/laps?session=${sid}`],
		['recordings', '#/recordings'], ['tracks', `#/tracks/${encodeURIComponent(model.game)}/${encodeURIComponent(model.track_name)}`],
		['cars', `#/cars/${encodeURIComponent((await api('/api/characteristics/cars'))[0].car_name)}`],
	];
	for (const [name, hash] of views) {
		await page.goto(`${URL0}/${hash}`);
		await sleep(1500);
		await shot(page, name, 1280, 800);
		await shot(page, name, 768, 1024);
	}
	const drawn = await page.evaluate(() => !!document.querySelector('#car-gears-chart canvas'));
	check('cars: the per-gear chart is drawn', drawn);
	// the shift line's label is drawn inside the plot: no red of it over the rpm axis's numbers
	const spill = await page.evaluate(() => {
		const root = document.getElementById('car-gears-chart');
		const cv = root && root.querySelector('canvas'), over = root && root.querySelector('.u-over');
		if (!cv || !over) return null;
		const k = cv.width / cv.getBoundingClientRect().width;
		const left = Math.floor((over.getBoundingClientRect().left - cv.getBoundingClientRect().left) * k) - 1;
		const px = cv.getContext('2d').getImageData(0, 0, left, cv.height).data;
		let red = 0;
		for (let i = 0; i < px.length; i += 4) if (px[i] > 200 && px[i + 1] < 130 && px[i + 2] < 130) red++;
		return red;
	});
	check('cars: the shift line\'s label lies inside the plot, off the rpm axis', spill === 0, `${spill} red pixels left of the plot`);
	await page.goto(`${URL0}/#/tracks/${encodeURIComponent(model.game)}/${encodeURIComponent(model.track_name)}`);
	check('tracks: the model is drawn on its map', await page.waitForSelector('#track-model-map', { timeout: 5000 }).then(() => true, () => false));
	await page.setViewportSize({ width: 1280, height: 800 });

	// --- the store restarted ----------------------------------------------------------------
	await page.goto(`${URL0}/#/sessions`);
	await page.waitForSelector('.tbl tbody tr');
	storeDown = true;
	process.kill(Number(E.PW_STORE_PID), 'SIGTERM');
	const shown = await until(10000, () => page.evaluate(() => {
		const b = document.getElementById('banner');
		return !b.hidden && /store unavailable/i.test(b.textContent);
	}));
	check('store stopped: the page says "store unavailable"', shown);
	const out = openSync(join(E.PW_TMP, 'store2.log'), 'a');
	const st = spawn(join(BIN, 'pw-store'), [], { stdio: ['ignore', out, out], detached: true });
	appendFileSync(join(E.PW_TMP, 'extra.pids'), `${st.pid}\n`);
	const back = await until(20000, () => page.evaluate(() => document.getElementById('banner').hidden && document.querySelectorAll('.tbl tbody tr').length > 0));
	storeDown = false;
	check('store started again: the banner goes, the sessions show again', back);

	// --- a feed going stale, then down --------------------------------------------------------
	await page.goto(`${URL0}/#/live/ksudp`);
	await until(5000, () => page.evaluate(() => /^\d/.test(document.getElementById('live-speed')?.textContent || '')));
	process.kill(Number(E.PW_SIM_PID), 'SIGTERM');
	const stale = await until(10000, () => page.evaluate(() => {
		const o = document.getElementById('live-feed-state');
		return o && !o.hidden && /stale/.test(o.textContent);
	}));
	check('feed: the emulator stops, the live view shows the feed stale', stale);
	await page.screenshot({ path: join(SHOTS, 'live-stale-1280x800.png') });
	process.kill(Number(E.PW_CAP_PID), 'SIGTERM');
	const down = await until(10000, () => page.evaluate(() => {
		const o = document.getElementById('live-feed-state');
		return o && !o.hidden && /down/.test(o.textContent);
	}));
	check('feed: its capture stops, the live view shows the feed down', down);

	check('no console error, no uncaught exception, no request to a host but the stack\'s', problems.length === 0, problems.slice(0, 5).join(' | '));
	await page.close();

	// --- a token ----------------------------------------------------------------------------
	if (E.PW_TOKEN_URL) {
		const p2 = await context.newPage();
		const prob2 = watch(p2, E.PW_TOKEN_URL, (t) => /status of 401/.test(t));
		await p2.goto(`${E.PW_TOKEN_URL}/#/sessions`);
		const asked = await p2.waitForSelector('#token-dialog', { timeout: 10000 }).then(() => true, () => false);
		check('token: the page asks for it', asked);
		await p2.fill('#token-input', 'wrong');
		await p2.press('#token-input', 'Enter');
		const again = await p2.waitForSelector('#token-dialog', { timeout: 10000 }).then(() => true, () => false);
		check('token: a wrong one is refused and asked for again', again);
		await p2.fill('#token-input', E.PW_TOKEN);
		await p2.press('#token-input', 'Enter');
		const ok = await until(10000, () => p2.evaluate(() => document.querySelectorAll('.tbl tbody tr').length > 0 &&
			document.getElementById('stream-status').textContent === 'stream live'));
		check('token: with it, the API answers and the stream connects', ok);
		check('token: no console error but the two 401s asked for', prob2.length === 0, prob2.join(' | '));
		await p2.close();
	}
	await close();
}

main().then(() => {
	console.log(failed ? `${failed} failed` : 'all passed');
	process.exit(failed ? 1 : 0);
}, (e) => {
	fail('the dashboard test ran to its end', e.stack || String(e));
	process.exit(1);
});
