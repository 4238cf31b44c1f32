// views/live.js - one feed live: speed, gear, rpm with the shift light at the car's analysed shift
// point, pedals and steering with a 10 s trace, the g-g circle with a 1.5 s trail, the tyres (only
// the channels the game gives), the lap timer with a live delta to a reference lap, the track map
// with the car's dot, and the feed's health. Telemetry comes over the stream at 60 Hz (set_rate);
// the page draws once per animation frame, whatever arrives in between.
import { get, seg } from '../api.js';
import { h, put, pill } from '../dom.js';
import * as fmt from '../fmt.js';
import { chart, dispose, axes, series } from '../plot.js';
import { TrackMap } from '../trackmap.js';
import { finding } from './engineer.js';

const RATE_HZ = 60;
const TRACE_S = 10;
const TRAIL_S = 1.5;
const TRACE_CAP = 1200; // 10 s at up to 120 frames/s

// A fixed ring of samples, oldest first when read.
class Ring {
	constructor(cap) {
		this.cap = cap;
		this.buf = new Array(cap);
		this.n = 0;
		this.head = 0;
	}
	push(v) {
		this.buf[this.head] = v;
		this.head = (this.head + 1) % this.cap;
		if (this.n < this.cap) this.n++;
	}
	clear() {
		this.n = 0;
		this.head = 0;
	}
	*[Symbol.iterator]() {
		for (let i = 0; i < this.n; i++) yield this.buf[(this.head - this.n + i + this.cap) % this.cap];
	}
	last() {
		return this.n ? this.buf[(this.head - 1 + this.cap) % this.cap] : undefined;
	}
}

// Where the car is on the lap, as a fraction of it: the game's spline position, else its lap
// distance over the track length, else the lap distance in metres over the reference's length.
function lapPos(f, refLen) {
	if (typeof f.spline === 'number') return f.spline;
	if (typeof f.lap_dist_m === 'number' && f.lap_dist_m >= 0) {
		if (f.track_len_m > 0) return f.lap_dist_m / f.track_len_m;
		if (refLen > 0) return f.lap_dist_m / refLen;
	}
	return null;
}

// Interpolated time (ms) of a reference trace at pos; null off its ends.
function refTime(ref, pos) {
	const p = ref.pos;
	if (!p.length || pos < p[0] || pos > p[p.length - 1]) return null;
	let lo = 0, hi = p.length - 1;
	while (hi - lo > 1) {
		const mid = (lo + hi) >> 1;
		if (p[mid] <= pos) lo = mid;
		else hi = mid;
	}
	const span = p[hi] - p[lo];
	const f = span > 0 ? (pos - p[lo]) / span : 0;
	return ref.t[lo] + f * (ref.t[hi] - ref.t[lo]);
}

function tempColor(c) {
	if (typeof c !== 'number') return '';
	// cold blue below 60 degC, green 80..100, red from 115
	if (c < 60) return '#24476e';
	if (c < 80) return '#2d5f5a';
	if (c <= 100) return '#2e6b3f';
	if (c <= 115) return '#7a6126';
	return '#7a2626';
}

export function mount(el, ctx) {
	const { stream } = ctx;
	let feed = ctx.parts[0] || null;
	let frame = null; // newest frame of the feed
	let lastSeq = -1;
	let dirty = false;
	let raf = 0;
	let release = null;
	let alive = true;
	let meta = { car: '', track: '', game: '' };
	let shiftRpm = null;
	let maxRpmSeen = 0;
	let feedStatus = null;
	let healthRow = null;
	let msgCount = 0;
	let msgRate = 0;
	let msgT0 = performance.now();
	const trace = new Ring(TRACE_CAP);
	const trail = new Ring(240);
	// laps driven while the page is open: the current one, and the best complete one (reference)
	let curLap = null; // {lap, pos: [], t: [], pts: [], startPos, invalid}
	let prevLapPts = null;
	let reference = null; // {pos: fractions of the lap, t: ms, time_ms, label, len_m}
	let pinned = false; // the driver chose a stored lap: laps driven here do not replace it
	const cleanups = [];

	// --- layout -----------------------------------------------------------------------------
	const feedSel = h('select#feed-select', { 'aria-label': 'feed', onchange: () => ctx.navigate(`#/live/${feedSel.value}`) });
	const statusPill = pill('—', '');
	const overlay = h('div.banner', { hidden: true });
	const speedEl = h('span#live-speed', '—');
	const gearEl = h('span#live-gear', '—');
	const rpmEl = h('span#live-rpm.num', '—');
	const rpmFill = h('div.fill');
	const rpmMark = h('div.mark', { hidden: true });
	const shiftEl = h('div.shift', h('i.g'), h('i.g'), h('i.y'), h('i.y'), h('i.r'));
	const shiftNote = h('div.muted', { style: { fontSize: '12px', marginTop: '4px' } }, '');
	const bar = (name, color, center) => {
		const fill = h('div.fill', { style: { background: color } });
		const val = h('span.num', '—');
		return { row: [h('span', name), h(center ? 'div.bar.center' : 'div.bar', fill), val], fill, val };
	};
	const bThrottle = bar('throttle', 'var(--throttle)');
	const bBrake = bar('brake', 'var(--brake)');
	const bClutch = bar('clutch', 'var(--clutch)');
	const bSteer = bar('steer', 'var(--steer)', true);
	const ggCanvas = h('canvas#live-gg', { style: { width: '100%', maxWidth: '260px', aspectRatio: '1', display: 'block', margin: '0 auto' } });
	const ggText = h('div.muted.num', { style: { textAlign: 'center', fontSize: '12px' } }, '');
	const tyreEls = ['FL', 'FR', 'RL', 'RR'].map((n) => h('div.tyre', h('span.muted', n), h('b', '—'), h('div', '')));
	const tyreNote = h('div.muted', { style: { fontSize: '12px', marginTop: '6px' } });
	const lapEls = {
		lap: h('span.num', '—'), cur: h('span.big.num#live-laptime', '—'), last: h('span.num', '—'),
		best: h('span.num', '—'), sectors: h('span.num', '—'),
	};
	const deltaEl = h('span.delta#live-delta', '—');
	const engineerEl = h('div#live-engineer', h('p.muted', { style: { fontSize: '12px', margin: 0 } },
		'The race engineer\'s findings appear here at each lap end while a general session records this feed.'));
	let findings = 0;
	const refNote = h('div.muted', { style: { fontSize: '12px' } }, 'reference: the best complete lap driven while this page is open');
	const refSel = h('select#live-ref', { 'aria-label': 'reference lap', style: { marginTop: '6px', maxWidth: '100%' } },
		h('option', { value: '' }, 'delta to: the best lap driven here'));
	let refLoaded = false;
	// the stored laps of this car on this track, read when the driver opens the list
	refSel.addEventListener('focus', async () => {
		if (refLoaded || !meta.track) return;
		refLoaded = true;
		try {
			const sessions = (await get('/api/sessions')) || [];
			const mine = sessions.filter((x) => x.car_name === meta.car && (x.runs || []).some((r) => r.track === meta.track && r.game === meta.game));
			const laps = (await Promise.all(mine.map((x) => get(`/api/sessions/${seg(x.id)}/laps`).then((ls) => (ls || []).map((l) => ({ ...l, sid: x.id, label: x.label || x.use_case }))))))
				.flat().filter((l) => l.valid && l.time_ms > 0).sort((a, b) => a.time_ms - b.time_ms).slice(0, 20);
			refSel.append(...laps.map((l) => h('option', { value: `${l.sid}/${l.run_id}/${l.number}` }, `delta to: ${fmt.lapTime(l.time_ms)} · ${l.label} · lap ${l.number}`)));
		} catch { /* the store may be away */ }
	});
	refSel.addEventListener('change', async () => {
		if (!refSel.value) {
			pinned = false;
			reference = null;
			return;
		}
		const [sid, rid, n] = refSel.value.split('/');
		try {
			const d = await get(`/api/sessions/${seg(sid)}/runs/${seg(rid)}/laps/${seg(n)}?channels=speed_kmh&step_m=2`);
			const len = d.length_m || d.distance_m[d.distance_m.length - 1];
			reference = { pos: d.distance_m.map((x) => x / len), t: d.time_s.map((x) => x * 1000), time_ms: d.lap.time_ms, len_m: len,
				label: `${fmt.lapTime(d.lap.time_ms)}, lap ${d.lap.number} of ${refSel.selectedOptions[0].textContent.split(' · ')[1]}` };
			pinned = true;
			dirty = true;
		} catch (e) {
			refSel.value = '';
			refNote.textContent = `that lap cannot be read: ${e.message}`;
		}
	});
	const mapCanvas = h('canvas.map#live-map');
	const carDot = h('div.cardot', { hidden: true });
	const mapNote = h('div.muted', { style: { fontSize: '12px', marginTop: '4px' } }, '');
	const traceEl = h('div.chart#live-trace');
	const healthEl = h('div.health');

	put(el,
		h('div.row.between', { style: { marginBottom: '10px' } },
			h('div.row', h('h1', { style: { margin: 0 } }, 'Live'), feedSel, statusPill),
			h('div.muted#live-car', '')),
		overlay,
		h('div.live',
			h('section.card.a-dash',
				h('div.speedo',
					h('div', h('h3', 'speed'), h('div.speed', speedEl, h('small', ' km/h'))),
					h('div', h('h3', 'gear'), h('div.gear', gearEl))),
				h('div.row.between', { style: { marginTop: '8px' } }, h('span.muted', 'rpm'), rpmEl),
				h('div.rpmbar', rpmFill, rpmMark),
				shiftEl, shiftNote),
			h('section.card.a-map', h('h3', 'track'), h('div.mapwrap', mapCanvas, carDot), mapNote),
			h('section.card.a-inputs', h('h3', 'inputs'),
				h('div.bars', bThrottle.row, bBrake.row, bClutch.row, bSteer.row)),
			h('section.card.a-gg', h('h3', 'g-g (1.5 s trail)'), ggCanvas, ggText),
			h('section.card.a-tyres', h('h3', 'tyres'), h('div.tyres', tyreEls), tyreNote),
			h('section.card.a-lap', h('h3', 'lap'),
				h('div.laptimes',
					h('span.muted', 'lap'), lapEls.lap,
					h('span.muted', 'current'), lapEls.cur,
					h('span.muted', 'delta'), deltaEl,
					h('span.muted', 'last'), lapEls.last,
					h('span.muted', 'best'), lapEls.best,
					h('span.muted', 'sectors'), lapEls.sectors),
				refSel, refNote,
				h('h3', { style: { marginTop: '10px' } }, 'race engineer'), engineerEl),
			h('section.card.a-trace', h('h3', `last ${TRACE_S} s`), traceEl),
			h('section.card.a-health', h('h3', 'feed health'), healthEl)));

	const map = new TrackMap(mapCanvas, { maxHeight: 360 });
	cleanups.push(() => map.dispose());

	const traceChart = chart(traceEl, {
		height: 170,
		legend: { show: true, live: false },
		cursor: { show: false },
		scales: { x: { time: false, range: [-TRACE_S, 0] }, in: { range: [-1, 1] }, kmh: { range: (u, lo, hi) => [0, Math.max(100, hi * 1.05)] } },
		axes: [
			axes('s', '')[0],
			{ ...axes('', 'input')[1], scale: 'in' },
			{ ...axes('', 'km/h')[1], scale: 'kmh', side: 1, grid: { show: false } },
		],
		series: [{}, series('throttle', '#4cd07d', { scale: 'in' }), series('brake', '#ff5f5f', { scale: 'in' }),
			series('steer', '#f2b84b', { scale: 'in' }), series('speed km/h', '#5fb3ff', { scale: 'kmh' })],
	}, [[], [], [], [], []]);
	cleanups.push(() => dispose(traceChart));

	// --- feeds, metadata ----------------------------------------------------------------------
	function fillFeeds() {
		const feeds = [...stream.feeds.values()];
		if (!feed) {
			const up = feeds.find((f) => f.status === 'up');
			feed = (up || feeds[0] || {}).name || null;
			if (feed) history.replaceState(null, '', `#/live/${feed}`);
			if (feed) subscribe();
		}
		put(feedSel, feeds.map((f) => h('option', { value: f.name, selected: f.name === feed }, `${f.name} (${f.status})`)));
		const f = stream.feeds.get(feed);
		if (f) setStatus(f.status);
	}

	function setStatus(s) {
		if (s === feedStatus) return;
		feedStatus = s;
		statusPill.className = `pill ${s}`;
		statusPill.textContent = s || '—';
		overlay.hidden = s === 'up';
		overlay.textContent = s === 'stale' ? `Feed ${feed} is stale: its capture runs but no packets arrive (is the game driving?). Showing the last frame.`
			: s === 'down' ? `Feed ${feed} is down: no pw-capture runs for it. Showing the last frame.`
			: '';
		overlay.id = 'live-feed-state';
	}

	function subscribe() {
		if (release) release();
		release = feed ? stream.need({ rate: RATE_HZ, feeds: [feed] }) : null;
	}

	async function loadMeta() {
		try {
			const live = await get('/api/live');
			const f = live && live.feeds && live.feeds[feed];
			if (!f || !alive) return;
			const changed = f.car !== meta.car || f.track !== meta.track || f.game !== meta.game;
			meta = { car: f.car, track: f.track, game: f.game, driver: f.driver };
			document.getElementById('live-car').textContent =
				[f.game, f.car, f.track, f.driver].filter(Boolean).join(' · ');
			if (!changed) return;
			shiftRpm = null;
			const cars = await get('/api/characteristics/cars');
			const car = (cars || []).find((c) => c.car_name === meta.car);
			shiftRpm = car && car.recommended_shift_rpm > 0 ? car.recommended_shift_rpm : null;
			const tracks = await get('/api/tracks');
			const t = (tracks || []).find((x) => x.game === meta.game && x.track_name === meta.track);
			map.setModel(t ? await get(`/api/tracks/${seg(t.game)}/${seg(t.track_name)}`) : null);
			dirty = true;
		} catch (e) {
			/* the store may be away: the banner says so; live data goes on */
		}
	}

	async function pollHealth() {
		try {
			const feeds = await get('/api/feeds');
			healthRow = (feeds || []).find((f) => f.feed === feed) || null;
			if (healthRow) setStatus(healthRow.status);
			if (healthRow && (healthRow.car !== meta.car || healthRow.track !== meta.track)) loadMeta();
		} catch { /* shown by the banner */ }
		const now = performance.now();
		msgRate = (msgCount * 1000) / Math.max(1, now - msgT0);
		msgCount = 0;
		msgT0 = now;
		renderHealth();
	}

	function renderHealth() {
		const r = healthRow || {};
		const age = frame && frame.t_ns ? Date.now() - frame.t_ns / 1e6 : null;
		const cell = (label, v, cls) => h('div', h('span', label), h('b', { class: cls || '' }, v));
		put(healthEl,
			cell('status', r.status || feedStatus || '—', r.status === 'up' ? 'good' : r.status ? 'bad' : ''),
			cell('packets/s', fmt.num(r.packets_per_s, 1)),
			cell('frames/s', fmt.num(r.frames_per_s, 1)),
			cell('telemetry here', `${fmt.num(msgRate, 1)} Hz`),
			cell('received', fmt.num(r.received)),
			cell('decoded', fmt.num(r.decoded)),
			cell('wrong size', fmt.num(r.wrong_size), r.wrong_size ? 'warn' : ''),
			cell('unknown format', fmt.num(r.unknown_format), r.unknown_format ? 'warn' : ''),
			cell('kernel drops', fmt.num(r.kernel_drops), r.kernel_drops ? 'bad' : ''),
			cell('last frame', age === null ? '—' : age < 1000 ? `${Math.round(age)} ms ago` : `${(age / 1000).toFixed(1)} s ago`),
			cell('source', r.source || '—'));
	}

	// --- frames -------------------------------------------------------------------------------
	function onTelemetry(e) {
		const f = e.detail.frames && e.detail.frames[feed];
		if (!f) return;
		msgCount++;
		if (f.seq === lastSeq) return;
		lastSeq = f.seq;
		frame = f;
		dirty = true;
		const t = f.t_ns / 1e9;
		trace.push({ t, th: f.throttle, br: f.brake, st: f.steer, sp: f.speed_kmh });
		if (typeof f.accel_lat_g === 'number' && typeof f.accel_lon_g === 'number')
			trail.push({ t, x: f.accel_lat_g, y: f.accel_lon_g });
		if (typeof f.rpm === 'number' && f.rpm > maxRpmSeen) maxRpmSeen = f.rpm;
		trackLap(f);
	}

	function trackLap(f) {
		const pos = lapPos(f, reference && reference.len_m);
		const lap = f.lap;
		if (curLap && lap !== curLap.lap) {
			// the lap ended: keep it as the reference when it is complete, valid and the best
			const done = curLap;
			const time = typeof f.last_lap_ms === 'number' && f.last_lap_ms > 0 ? f.last_lap_ms : done.t[done.t.length - 1];
			const complete = done.pos.length > 10 && done.startT < 3000;
			if (!pinned && complete && !done.invalid && (!reference || time < reference.time_ms))
				reference = { pos: done.pos, t: done.t, time_ms: time, label: `lap ${done.lap + 1} (${fmt.lapTime(time)}), the best driven while this page is open` };
			if (done.pts.length > 10) prevLapPts = done.pts;
			curLap = null;
		}
		if (!curLap && typeof lap === 'number')
			curLap = { lap, pos: [], t: [], pts: [], startT: f.lap_time_ms, invalid: false };
		if (!curLap) return;
		if (f.flags && f.flags.lap_invalid) curLap.invalid = true;
		if (pos !== null && typeof f.lap_time_ms === 'number') {
			const P = curLap.pos;
			// monotonic in distance: drop samples that go backwards (noise at rest)
			if (!P.length || pos > P[P.length - 1]) {
				P.push(pos);
				curLap.t.push(f.lap_time_ms);
			}
		}
		if (Array.isArray(f.pos_m)) {
			const pts = curLap.pts;
			const q = [f.pos_m[0], f.pos_m[2]];
			const l = pts[pts.length - 1];
			if (!l || Math.hypot(q[0] - l[0], q[1] - l[1]) > 2) pts.push(q);
		}
	}

	// --- drawing ------------------------------------------------------------------------------
	const last = {};
	const setText = (el2, key, v) => {
		if (last[key] !== v) {
			last[key] = v;
			el2.textContent = v;
		}
	};
	const setBar = (b, key, v, center) => {
		const val = typeof v === 'number' ? v : null;
		const x = val === null ? 0 : center ? Math.max(-1, Math.min(1, val)) : Math.max(0, Math.min(1, val));
		if (last[key] === x) return;
		last[key] = x;
		if (center) {
			b.fill.style.transformOrigin = x < 0 ? 'left' : 'left';
			b.fill.style.transform = x < 0 ? `translateX(${x * 100}%) scaleX(${-x})` : `scaleX(${x})`;
		} else {
			b.fill.style.transform = `scaleX(${x})`;
		}
		b.val.textContent = val === null ? '—' : center ? val.toFixed(2) : `${Math.round(val * 100)} %`;
	};

	let ggWidth = 0;
	const ggRO = new ResizeObserver(() => {
		ggWidth = ggCanvas.clientWidth;
		dirty = true;
	});
	ggRO.observe(ggCanvas);
	cleanups.push(() => ggRO.disconnect());

	function drawGG() {
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(100, ggWidth);
		if (ggCanvas.width !== Math.round(w * dpr)) {
			ggCanvas.width = Math.round(w * dpr);
			ggCanvas.height = Math.round(w * dpr);
		}
		const c = ggCanvas.getContext('2d');
		const W = ggCanvas.width, cx = W / 2, cy = W / 2;
		c.clearRect(0, 0, W, W);
		let maxG = 2;
		for (const p of trail) maxG = Math.max(maxG, Math.abs(p.x), Math.abs(p.y));
		const s = (W / 2 - 8 * dpr) / Math.ceil(maxG);
		c.strokeStyle = '#2a313b';
		c.lineWidth = dpr;
		for (let g = 1; g <= Math.ceil(maxG); g++) {
			c.beginPath();
			c.arc(cx, cy, g * s, 0, 2 * Math.PI);
			c.stroke();
		}
		c.beginPath();
		c.moveTo(cx, 4);
		c.lineTo(cx, W - 4);
		c.moveTo(4, cy);
		c.lineTo(W - 4, cy);
		c.stroke();
		const lastP = trail.last();
		if (!lastP) return;
		const t0 = lastP.t - TRAIL_S;
		c.strokeStyle = '#5fb3ff';
		c.lineWidth = 2 * dpr;
		c.beginPath();
		let started = false;
		for (const p of trail) {
			if (p.t < t0) continue;
			// lateral + right: to the right; longitudinal + forward (accelerating): up
			const x = cx + p.x * s, y = cy - p.y * s;
			if (!started) c.moveTo(x, y);
			else c.lineTo(x, y);
			started = true;
		}
		c.stroke();
		c.fillStyle = '#ff5f5f';
		c.beginPath();
		c.arc(cx + lastP.x * s, cy - lastP.y * s, 5 * dpr, 0, 2 * Math.PI);
		c.fill();
		setText(ggText, 'gg', `lat ${lastP.x.toFixed(2)} g · lon ${lastP.y.toFixed(2)} g`);
	}

	function drawTrace() {
		const last2 = trace.last();
		if (!last2) return;
		const xs = [], th = [], br = [], st = [], sp = [];
		for (const p of trace) {
			const x = p.t - last2.t;
			if (x < -TRACE_S) continue;
			xs.push(x);
			th.push(p.th ?? null);
			br.push(p.br ?? null);
			st.push(p.st ?? null);
			sp.push(p.sp ?? null);
		}
		traceChart.setData([xs, th, br, st, sp]);
	}

	function drawTyres(f) {
		const has = (k) => Array.isArray(f[k]);
		['FL', 'FR', 'RL', 'RR'].forEach((n, i) => {
			const el2 = tyreEls[i];
			const temp = has('tyre_temp_c') ? f.tyre_temp_c[i] : null;
			const key = `ty${i}`;
			const lines = [];
			if (has('tyre_press_kpa')) lines.push(`${fmt.num(f.tyre_press_kpa[i], 0)} kPa`);
			if (has('tyre_wear')) lines.push(`wear ${fmt.num(f.tyre_wear[i], 2)}`);
			if (has('slip_ratio')) lines.push(`slip ${fmt.num(f.slip_ratio[i], 2)}`);
			if (has('slip_angle_rad')) lines.push(`α ${fmt.num(f.slip_angle_rad[i], 3)} rad`);
			if (has('brake_temp_c')) lines.push(`brake ${fmt.num(f.brake_temp_c[i], 0)} °C`);
			const text = `${temp === null ? '—' : `${fmt.num(temp, 0)} °C`}|${lines.join(' · ')}`;
			if (last[key] === text) return;
			last[key] = text;
			el2.children[1].textContent = temp === null ? '' : `${fmt.num(temp, 0)} °C`;
			el2.children[1].hidden = temp === null;
			el2.children[2].textContent = lines.join(' · ');
			el2.style.background = tempColor(temp);
		});
		const missing = ['tyre_temp_c', 'tyre_press_kpa', 'tyre_wear', 'slip_ratio', 'brake_temp_c'].filter((k) => !has(k));
		setText(tyreNote, 'tynote', missing.length ? `${meta.game || 'this game'} does not send: ${missing.join(', ')}` : '');
	}

	function drawLap(f) {
		setText(lapEls.lap, 'lap', typeof f.lap === 'number' ? String(f.lap + 1) : '—');
		setText(lapEls.cur, 'cur', fmt.lapTime(f.lap_time_ms));
		setText(lapEls.last, 'lastlap', fmt.lapTime(f.last_lap_ms));
		setText(lapEls.best, 'best', fmt.lapTime(reference && (!(f.best_lap_ms > 0) || reference.time_ms < f.best_lap_ms) ? reference.time_ms : f.best_lap_ms));
		setText(lapEls.sectors, 'sec', Array.isArray(f.sector_ms) ? f.sector_ms.map((s) => (s === null ? '—' : fmt.lapTime(s))).join(' / ') : '—');
		let d = null;
		const pos = lapPos(f, reference && reference.len_m);
		if (reference && pos !== null && typeof f.lap_time_ms === 'number') {
			const rt = refTime(reference, pos);
			if (rt !== null) d = (f.lap_time_ms - rt) / 1000;
		}
		setText(deltaEl, 'delta', d === null ? '—' : fmt.delta(d, 2));
		const cls = d === null ? 'delta' : d > 0 ? 'delta bad' : 'delta good';
		if (deltaEl.className !== cls) deltaEl.className = cls;
		setText(refNote, 'ref', reference ? `reference: ${reference.label}` : 'reference: the best complete lap driven while this page is open (none yet)');
	}

	function drawMap(f) {
		const pts = curLap ? curLap.pts : [];
		const off = (p) => p && (p.left < 0 || p.top < 0 || p.left > map.cssW || p.top > map.cssH);
		const traces = () => {
			last.mapPts = pts.length;
			map.setTraces([...(prevLapPts ? [{ points: prevLapPts, color: '#3a4654', width: 3 }] : []),
				{ points: pts, color: '#5fb3ff', width: 2 }]);
		};
		// the current lap's trace grows: redraw the map at most every 20 points
		if (!map.model && pts.length !== last.mapPts && (pts.length - (last.mapPts || 0) >= 20 || pts.length < (last.mapPts || 0)))
			traces();
		if (map.dirty) map.draw();
		// the car is a DOM dot moved over the map: no canvas redraw per frame
		let at = Array.isArray(f.pos_m) ? map.project(f.pos_m[0], f.pos_m[2]) : null;
		// drawn from the laps, the map grows with the car; on a model, a car off it gets no dot
		if (off(at) && !map.model) {
			traces();
			map.draw();
			at = map.project(f.pos_m[0], f.pos_m[2]);
		}
		if (off(at)) at = null;
		carDot.hidden = !at;
		if (at) {
			carDot.style.transform = `translate(${at.left.toFixed(1)}px, ${at.top.toFixed(1)}px)`;
			mapCanvas.dataset.dot = `${f.pos_m[0].toFixed(2)},${f.pos_m[2].toFixed(2)}`;
		}
		setText(mapNote, 'mapnote', !Array.isArray(f.pos_m) ? `${meta.game || 'this feed'} sends no world position: no map`
			: map.model ? `track model of ${meta.track}` : 'no track model of this track yet: drawn from the laps driven');
	}

	// Every animation frame: what moves (numbers, rpm bar, pedals, map dot). Every 33 ms: the
	// trace and the g-g trail. Every 100 ms: what a driver reads (tyres, lap times, delta).
	let slowT = 0, midT = 0;
	function draw(now) {
		raf = requestAnimationFrame(draw);
		if (!dirty || !frame) return;
		dirty = false;
		const f = frame;
		const mid = now - midT >= 33;
		const slow = now - slowT >= 100;
		if (mid) midT = now;
		if (slow) slowT = now;
		setText(speedEl, 'speed', fmt.num(f.speed_kmh, 0));
		setText(gearEl, 'gear', fmt.gear(f.gear));
		setText(rpmEl, 'rpm', `${fmt.num(f.rpm, 0)} rpm`);
		const maxRpm = f.max_rpm > 0 ? f.max_rpm : Math.max(maxRpmSeen, shiftRpm ? shiftRpm * 1.08 : 0) || 8000;
		const frac = typeof f.rpm === 'number' ? Math.max(0, Math.min(1, f.rpm / maxRpm)) : 0;
		const fr = frac.toFixed(3);
		if (last.frac !== fr) rpmFill.style.transform = `scaleX(${(last.frac = fr)})`;
		const top = f.max_rpm > 0 ? f.max_rpm : maxRpmSeen > 3000 ? maxRpmSeen : 0;
		const target = shiftRpm || (top ? top * 0.97 : null);
		if (target) {
			rpmMark.hidden = false;
			const left = `${Math.min(100, (target / maxRpm) * 100).toFixed(1)}%`;
			if (last.mark !== left) rpmMark.style.left = last.mark = left;
			const r = typeof f.rpm === 'number' ? f.rpm / target : 0;
			const lights = r >= 1 ? 5 : r >= 0.85 ? Math.floor((r - 0.85) / 0.03) + 1 : 0;
			const cls = `shift${lights ? ' on' : ''}${r >= 1 ? ' flash' : ''}`;
			if (shiftEl.className !== cls) shiftEl.className = cls;
			if (last.lights !== lights) {
				last.lights = lights;
				[...shiftEl.children].forEach((li, i) => (li.style.opacity = i < lights ? '1' : '0.25'));
			}
		}
		setText(shiftNote, 'shiftnote', shiftRpm ? `shift light at ${fmt.num(shiftRpm)} rpm: the car's analysed shift point`
			: target ? `shift light at 97 % of the ${f.max_rpm > 0 ? 'max' : 'highest seen'} rpm: no shift_points analysis of ${meta.car || 'this car'} yet`
				: 'no rpm range known yet');
		setBar(bThrottle, 'th', f.throttle);
		setBar(bBrake, 'br', f.brake);
		setBar(bClutch, 'cl', f.clutch);
		setBar(bSteer, 'st', f.steer, true);
		drawMap(f);
		if (mid) {
			drawGG();
			drawTrace();
		}
		if (slow) {
			drawTyres(f);
			drawLap(f);
		}
		if (!mid || !slow) dirty = true; // what waited is drawn on a later frame
	}

	// --- wiring -------------------------------------------------------------------------------
	const onHello = () => {
		fillFeeds();
		subscribe();
	};
	const onFeedStatus = (e) => {
		if (e.detail.feed === feed) {
			setStatus(e.detail.status);
			loadMeta();
		}
		fillFeeds();
	};
	// the race engineer's findings on the lap just driven (at most a few a lap): newest first
	const onFinding = (e) => {
		if (e.detail.feed !== feed) return;
		if (!findings++) engineerEl.replaceChildren();
		engineerEl.prepend(finding(e.detail));
		while (engineerEl.children.length > 3) engineerEl.lastChild.remove();
	};
	stream.addEventListener('recommendation', onFinding);
	cleanups.push(() => stream.removeEventListener('recommendation', onFinding));
	stream.addEventListener('telemetry', onTelemetry);
	stream.addEventListener('hello', onHello);
	stream.addEventListener('feed_status', onFeedStatus);
	cleanups.push(() => {
		stream.removeEventListener('telemetry', onTelemetry);
		stream.removeEventListener('hello', onHello);
		stream.removeEventListener('feed_status', onFeedStatus);
	});
	if (stream.hello) fillFeeds();
	subscribe();
	loadMeta();
	pollHealth();
	const hz = setInterval(pollHealth, 1000);
	raf = requestAnimationFrame(draw);

	return () => {
		alive = false;
		cancelAnimationFrame(raf);
		clearInterval(hz);
		if (release) release();
		cleanups.forEach((f) => f());
	};
}
