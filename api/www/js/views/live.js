// views/live.js - one feed live: speed, gear, rpm with the shift light at the car's analysed shift
// point, pedals and steering with a 10 s trace, the g-g circle with a 1.5 s trail, the tyres (only
// the channels the game gives), the lap timer with a live delta to a reference lap, the track map
// with the car's dot, and the feed's health. Telemetry comes over the stream at 60 Hz (set_rate).
//
// Drawing costs what changes on screen and no more (docs/dashboard.md, "Drawing"): ticks of one
// animation frame at most 30 times a second (the bars and the car's dot, moved by transforms,
// each tick; every number, the trace, the g-g trail, tyres and lap times together every third);
// a value is written only when what it shows changes, text in place (its text node's data).
// Nothing reads layout while drawing; the numbers sit in fixed-size boxes (contain: strict) so a
// new digit lays out its box only.
import { get, seg } from '../api.js';
import { h, put, pill } from '../dom.js';
import * as fmt from '../fmt.js';
import { chart, dispose, axes, series } from '../plot.js';
import { TrackMap } from '../trackmap.js';
import { finding } from './engineer.js';

// An element's text in place: its one text node's data is changed (no node is inserted or
// removed, so no style recalc of a new node and no new layout object), else textContent.
function writeText(el, v) {
	const t = el.firstChild;
	if (t && t.nodeType === 3 && !t.nextSibling) t.data = v;
	else el.textContent = v;
}

const RATE_HZ = 60;
const TRACE_S = 10;
const TRAIL_S = 1.5;
const TRACE_CAP = 1200; // 10 s at up to 120 frames/s
const TRAIL_CAP = 240;
const TICK_MS = 1000 / 30; // what moves (the rpm bar, the shift light, the pedal bars, the car's dot): 30 Hz
const SLOW_TICKS = 3; // what is painted (every number, the trace, the g-g trail, tyres, lap times): 10 Hz
const EARLY_MS = 4; // an animation frame this early still counts as on time
const BAR_STEPS = 400; // a bar moves in steps of 1/400 of its length (under a pixel at 400 px)

// A fixed ring of samples in columns (Float64Array each): push() returns the slot to fill;
// at(k) is the slot of the k-th oldest sample. NaN stands for a channel the frame lacks.
class Ring {
	constructor(cap, names) {
		this.cap = cap;
		this.n = 0;
		this.head = 0;
		for (const k of names) this[k] = new Float64Array(cap);
	}
	push() {
		const i = this.head;
		this.head = (i + 1) % this.cap;
		if (this.n < this.cap) this.n++;
		return i;
	}
	at(k) {
		return (this.head - this.n + k + this.cap) % this.cap;
	}
	clear() {
		this.n = 0;
		this.head = 0;
	}
}

const numOr = (v) => (typeof v === 'number' ? v : NaN);

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
	let fresh = false; // a frame the dash and the car's dot have not shown yet
	let slowDue = false; // ... the numbers, the trace, the g-g trail, the tyres and lap times
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
	const trace = new Ring(TRACE_CAP, ['t', 'th', 'br', 'st', 'sp']);
	const trail = new Ring(TRAIL_CAP, ['t', 'x', 'y']);
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
	const speedEl = h('span#live-speed.v', '—');
	const gearEl = h('span#live-gear.v', '—');
	const rpmEl = h('span#live-rpm.num.v', '—');
	const rpmFill = h('div.fill');
	const rpmMark = h('div.mark', { hidden: true });
	const shiftEl = h('div.shift', h('i.g'), h('i.g'), h('i.y'), h('i.y'), h('i.r'));
	const shiftNote = h('div.muted', { style: { fontSize: '12px', marginTop: '4px' } }, '');
	const bar = (name, color, center) => {
		const fill = h('div.fill', { style: { background: color } });
		const val = h('span.num.v', '—');
		return { row: [h('span', name), h(center ? 'div.bar.center' : 'div.bar', fill), val], fill, val };
	};
	const bThrottle = bar('throttle', 'var(--throttle)');
	const bBrake = bar('brake', 'var(--brake)');
	const bClutch = bar('clutch', 'var(--clutch)');
	const bSteer = bar('steer', 'var(--steer)', true);
	const ggCanvas = h('canvas#live-gg');
	const ggText = h('div.muted.num.v#live-gg-text', '');
	const tyreEls = ['FL', 'FR', 'RL', 'RR'].map((n) => h('div.tyre', h('span.muted', n), h('b', '—'), h('div', '')));
	const tyreNote = h('div.muted', { style: { fontSize: '12px', marginTop: '6px' } });
	const lapEls = {
		lap: h('span.num.v', '—'), cur: h('span.big.num.v#live-laptime', '—'), last: h('span.num.v', '—'),
		best: h('span.num.v', '—'), sectors: h('span.num.v', '—'),
	};
	const deltaEl = h('span.delta.v#live-delta', '—');
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
			slowDue = true;
			schedule();
		} catch (e) {
			refSel.value = '';
			refNote.textContent = `that lap cannot be read: ${e.message}`;
		}
	});
	const mapCanvas = h('canvas.map#live-map');
	const carDot = h('div.cardot', { hidden: true });
	const mapNote = h('div.muted', { style: { fontSize: '12px', marginTop: '4px' } }, '');
	const traceEl = h('div.chart#live-trace');
	const HEALTH = [['status'], ['packets/s'], ['frames/s'], ['telemetry here'], ['received'], ['decoded'], ['wrong size'],
		['unknown format'], ['kernel drops'], ['last frame'], ['source']];
	const healthCells = HEALTH.map(([label]) => h('b', '—'));
	const healthEl = h('div.health', HEALTH.map(([label], i) => h('div', h('span', label), healthCells[i])));

	put(el,
		h('div.row.between', { style: { marginBottom: '10px' } },
			h('div.row', h('h1', { style: { margin: 0 } }, 'Live'), feedSel, statusPill),
			h('div.muted#live-car', '')),
		overlay,
		h('div.live',
			h('section.card.a-dash#live-dash',
				h('div.speedo',
					h('div', h('h3', 'speed'), h('div.speed', speedEl, h('small', ' km/h'))),
					h('div', h('h3', 'gear'), h('div.gear', gearEl))),
				h('div.row.between', { style: { marginTop: '8px' } }, h('span.muted', 'rpm'), rpmEl),
				h('div.rpmbar', rpmFill, rpmMark),
				shiftEl, shiftNote),
			h('section.card.a-inputs#live-inputs', h('h3', 'inputs'),
				h('div.bars', bThrottle.row, bBrake.row, bClutch.row, bSteer.row)),
			h('section.card.a-lap#live-lap', h('h3', 'lap'),
				h('div.laptimes',
					h('span.muted', 'lap'), lapEls.lap,
					h('span.muted', 'current'), lapEls.cur,
					h('span.muted', 'delta'), deltaEl,
					h('span.muted', 'last'), lapEls.last,
					h('span.muted', 'best'), lapEls.best,
					h('span.muted', 'sectors'), lapEls.sectors),
				refSel, refNote,
				h('h3', { style: { marginTop: '10px' } }, 'race engineer'), engineerEl),
			h('section.card.a-map#live-track', h('h3', 'track'), h('div.mapwrap', mapCanvas, carDot), mapNote),
			h('section.card.a-gg#live-ggcard', h('h3', 'g-g (1.5 s trail)'), h('div.ggwrap', ggCanvas), ggText),
			h('section.card.a-trace#live-tracecard', h('h3', `last ${TRACE_S} s`), traceEl),
			h('section.card.a-tyres#live-tyres', h('h3', 'tyres'), h('div.tyres', tyreEls), tyreNote),
			h('section.card.a-health#live-health', h('h3', 'feed health'), healthEl)));

	const map = new TrackMap(mapCanvas, { maxHeight: 360, grow: 0.25 });
	cleanups.push(() => map.dispose());

	// the speed axis moves in steps of 50 km/h, so the axis is not drawn anew with every sample
	const traceChart = chart(traceEl, {
		height: 170,
		legend: { show: true, live: false },
		cursor: { show: false },
		scales: { x: { time: false, range: [-TRACE_S, 0] }, in: { range: [-1, 1] },
			kmh: { range: (u, lo, hi) => [0, Math.max(100, Math.ceil((Number.isFinite(hi) ? hi : 0) / 50) * 50)] } },
		axes: [
			axes('s', '')[0],
			{ ...axes('', 'input')[1], scale: 'in' },
			{ ...axes('', 'km/h')[1], scale: 'kmh', side: 1, grid: { show: false } },
		],
		series: [{}, series('throttle', '#4cd07d', { scale: 'in' }), series('brake', '#ff5f5f', { scale: 'in' }),
			series('steer', '#f2b84b', { scale: 'in' }), series('speed km/h', '#5fb3ff', { scale: 'kmh' })],
	}, [[], [], [], [], []]);
	cleanups.push(() => dispose(traceChart));
	// what setData gets: the ring's last 10 s in order, copied into these (no allocation a draw)
	const traceOut = ['t', 'th', 'br', 'st', 'sp'].map(() => new Float64Array(TRACE_CAP));

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
			fresh = slowDue = true;
			schedule();
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

	// The health panel in place: a cell's text and colour change when its value does.
	function renderHealth() {
		const r = healthRow || {};
		const age = frame && frame.t_ns ? Date.now() - frame.t_ns / 1e6 : null;
		const vals = [
			[r.status || feedStatus || '—', r.status === 'up' ? 'good' : r.status ? 'bad' : ''],
			[fmt.num(r.packets_per_s, 1)], [fmt.num(r.frames_per_s, 1)], [`${fmt.num(msgRate, 1)} Hz`],
			[fmt.num(r.received)], [fmt.num(r.decoded)],
			[fmt.num(r.wrong_size), r.wrong_size ? 'warn' : ''], [fmt.num(r.unknown_format), r.unknown_format ? 'warn' : ''],
			[fmt.num(r.kernel_drops), r.kernel_drops ? 'bad' : ''],
			[age === null ? '—' : age < 1000 ? `${Math.round(age)} ms ago` : `${(age / 1000).toFixed(1)} s ago`],
			[r.source || '—'],
		];
		vals.forEach(([v, cls], i) => {
			const c = healthCells[i];
			if (c.textContent !== v) writeText(c, v);
			if (c.className !== (cls || '')) c.className = cls || '';
		});
	}

	// --- frames -------------------------------------------------------------------------------
	function onTelemetry(e) {
		const f = e.detail.frames && e.detail.frames[feed];
		if (!f) return;
		msgCount++;
		if (f.seq === lastSeq) return;
		lastSeq = f.seq;
		frame = f;
		fresh = slowDue = true;
		const t = f.t_ns / 1e9;
		let i = trace.push();
		trace.t[i] = t;
		trace.th[i] = numOr(f.throttle);
		trace.br[i] = numOr(f.brake);
		trace.st[i] = numOr(f.steer);
		trace.sp[i] = numOr(f.speed_kmh);
		if (typeof f.accel_lat_g === 'number' && typeof f.accel_lon_g === 'number') {
			i = trail.push();
			trail.t[i] = t;
			trail.x[i] = f.accel_lat_g;
			trail.y[i] = f.accel_lon_g;
		}
		if (typeof f.rpm === 'number' && f.rpm > maxRpmSeen) maxRpmSeen = f.rpm;
		trackLap(f);
		schedule();
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
			writeText(el2, v);
		}
	};
	// A bar's fill at v (0..1, or -1..1 centred), in steps of 1/BAR_STEPS: a transform of its
	// own compositor layer, no paint.
	const setBar = (b, key, v, center) => {
		const val = typeof v === 'number' ? v : null;
		const x = val === null ? 0 : Math.round((center ? Math.max(-1, Math.min(1, val)) : Math.max(0, Math.min(1, val))) * BAR_STEPS) / BAR_STEPS;
		if (last[key] !== x) {
			last[key] = x;
			b.fill.style.transform = center && x < 0 ? `translateX(${x * 100}%) scaleX(${-x})` : `scaleX(${x})`;
		}
	};
	// A bar's value as text (painted: at the text rate).
	const setBarText = (b, key, v, center) => {
		const val = typeof v === 'number' ? v : null;
		setText(b.val, `${key}v`, val === null ? '—' : center ? val.toFixed(2) : `${Math.round(val * 100)} %`);
	};

	let ggWidth = 0;
	let ggGrid = null; // the g-g circle's rings, drawn once into an off-screen canvas
	const ggRO = new ResizeObserver(() => {
		ggWidth = ggCanvas.clientWidth;
		ggGrid = null;
		slowDue = true;
		schedule();
	});
	ggRO.observe(ggCanvas);
	cleanups.push(() => ggRO.disconnect());

	// The g-g circle's rings (one a g), for a canvas W device pixels wide.
	function ggBackground(W, dpr, rings) {
		if (ggGrid && ggGrid.width === W && ggGrid.rings === rings) return ggGrid.canvas;
		const cv = document.createElement('canvas');
		cv.width = cv.height = W;
		const c = cv.getContext('2d');
		const cx = W / 2, s = (W / 2 - 8 * dpr) / rings;
		c.strokeStyle = '#2a313b';
		c.lineWidth = dpr;
		for (let g = 1; g <= rings; g++) {
			c.beginPath();
			c.arc(cx, cx, g * s, 0, 2 * Math.PI);
			c.stroke();
		}
		c.beginPath();
		c.moveTo(cx, 4);
		c.lineTo(cx, W - 4);
		c.moveTo(4, cx);
		c.lineTo(W - 4, cx);
		c.stroke();
		ggGrid = { canvas: cv, width: W, rings };
		return cv;
	}

	function drawGG() {
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(100, ggWidth);
		const W = Math.round(w * dpr);
		if (ggCanvas.width !== W) {
			ggCanvas.width = W;
			ggCanvas.height = W;
		}
		if (!trail.n) return;
		const lastT = trail.t[trail.at(trail.n - 1)];
		const t0 = lastT - TRAIL_S;
		let k0 = trail.n - 1;
		while (k0 > 0 && trail.t[trail.at(k0 - 1)] >= t0) k0--;
		let maxG = 2;
		for (let k = k0; k < trail.n; k++) {
			const i = trail.at(k);
			maxG = Math.max(maxG, Math.abs(trail.x[i]), Math.abs(trail.y[i]));
		}
		const rings = Math.ceil(maxG);
		const c = ggCanvas.getContext('2d');
		const cx = W / 2, cy = W / 2;
		const s = (W / 2 - 8 * dpr) / rings;
		c.clearRect(0, 0, W, W);
		c.drawImage(ggBackground(W, dpr, rings), 0, 0);
		c.strokeStyle = '#5fb3ff';
		c.lineWidth = 2 * dpr;
		c.beginPath();
		for (let k = k0; k < trail.n; k++) {
			const i = trail.at(k);
			// lateral + right: to the right; longitudinal + forward (accelerating): up
			const x = cx + trail.x[i] * s, y = cy - trail.y[i] * s;
			if (k === k0) c.moveTo(x, y);
			else c.lineTo(x, y);
		}
		c.stroke();
		const li = trail.at(trail.n - 1);
		c.fillStyle = '#ff5f5f';
		c.beginPath();
		c.arc(cx + trail.x[li] * s, cy - trail.y[li] * s, 5 * dpr, 0, 2 * Math.PI);
		c.fill();
		setText(ggText, 'gg', `lat ${trail.x[li].toFixed(2)} g · lon ${trail.y[li].toFixed(2)} g`);
	}

	function drawTrace() {
		if (!trace.n) return;
		const tl = trace.t[trace.at(trace.n - 1)];
		let k0 = trace.n - 1;
		while (k0 > 0 && trace.t[trace.at(k0 - 1)] >= tl - TRACE_S) k0--;
		const [xs, th, br, st, sp] = traceOut;
		const n = trace.n - k0;
		for (let k = 0; k < n; k++) {
			const i = trace.at(k0 + k);
			xs[k] = trace.t[i] - tl;
			th[k] = trace.th[i];
			br[k] = trace.br[i];
			st[k] = trace.st[i];
			sp[k] = trace.sp[i];
		}
		traceChart.setData(traceOut.map((a) => a.subarray(0, n)));
	}

	function drawTyres(f) {
		const has = (k) => Array.isArray(f[k]);
		for (let i = 0; i < 4; i++) {
			const el2 = tyreEls[i];
			const temp = has('tyre_temp_c') ? f.tyre_temp_c[i] : null;
			const lines = [];
			if (has('tyre_press_kpa')) lines.push(`${fmt.num(f.tyre_press_kpa[i], 0)} kPa`);
			if (has('tyre_wear')) lines.push(`wear ${fmt.num(f.tyre_wear[i], 2)}`);
			if (has('slip_ratio')) lines.push(`slip ${fmt.num(f.slip_ratio[i], 2)}`);
			if (has('slip_angle_rad')) lines.push(`α ${fmt.num(f.slip_angle_rad[i], 3)} rad`);
			if (has('brake_temp_c')) lines.push(`brake ${fmt.num(f.brake_temp_c[i], 0)} °C`);
			const tt = temp === null ? '' : `${fmt.num(temp, 0)} °C`;
			setText(el2.children[1], `tyt${i}`, tt);
			if (el2.children[1].hidden !== (temp === null)) el2.children[1].hidden = temp === null;
			setText(el2.children[2], `tyl${i}`, lines.join(' · '));
			const bg = tempColor(temp);
			if (last[`tyb${i}`] !== bg) el2.style.background = last[`tyb${i}`] = bg;
		}
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
		const cls = d === null ? 'delta v' : d > 0 ? 'delta v bad' : 'delta v good';
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
		// the current lap's trace grows: its new part (every 4 points, 8 m) is drawn onto the map
		// as it is; the map is drawn anew at a new lap or when the lap leaves the map's scale
		const from = last.mapPts || 0;
		if (!map.model && pts.length !== from && (pts.length - from >= 4 || pts.length < from)) {
			if (pts.length > from && from > 0 && map.extendTrace(map.traces.length - 1, from)) last.mapPts = pts.length;
			else traces();
		}
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
		if (carDot.hidden !== !at) carDot.hidden = !at;
		if (at) {
			// moved in whole device pixels: a dot that has not moved a pixel is not drawn again
			const dpr = window.devicePixelRatio || 1;
			const x = Math.round(at.left * dpr) / dpr, y = Math.round(at.top * dpr) / dpr;
			if (x !== last.dotX || y !== last.dotY) {
				last.dotX = x;
				last.dotY = y;
				carDot.style.transform = `translate(${x}px, ${y}px)`;
				mapCanvas.dataset.dot = `${f.pos_m[0].toFixed(2)},${f.pos_m[2].toFixed(2)}`;
			}
		}
		setText(mapNote, 'mapnote', !Array.isArray(f.pos_m) ? `${meta.game || 'this feed'} sends no world position: no map`
			: map.model ? `track model of ${meta.track}` : 'no track model of this track yet: drawn from the laps driven');
	}

	// What moves with every tick: the rpm bar, the shift light, the pedal and steering bars (the
	// bars are transforms of their own layers: the compositor moves them, nothing is painted).
	function drawMotion(f) {
		const maxRpm = f.max_rpm > 0 ? f.max_rpm : Math.max(maxRpmSeen, shiftRpm ? shiftRpm * 1.08 : 0) || 8000;
		const frac = typeof f.rpm === 'number' ? Math.round(Math.max(0, Math.min(1, f.rpm / maxRpm)) * BAR_STEPS) / BAR_STEPS : 0;
		if (last.frac !== frac) rpmFill.style.transform = `scaleX(${(last.frac = frac)})`;
		const top = f.max_rpm > 0 ? f.max_rpm : maxRpmSeen > 3000 ? maxRpmSeen : 0;
		const target = shiftRpm || (top ? top * 0.97 : null);
		if (target) {
			if (rpmMark.hidden) rpmMark.hidden = false;
			const left = `${Math.min(100, (target / maxRpm) * 100).toFixed(1)}%`;
			if (last.mark !== left) rpmMark.style.left = last.mark = left;
			const r = typeof f.rpm === 'number' ? f.rpm / target : 0;
			const lights = r >= 1 ? 5 : r >= 0.85 ? Math.floor((r - 0.85) / 0.03) + 1 : 0;
			if (last.lights !== lights) {
				last.lights = lights;
				shiftEl.className = `shift${lights ? ' on' : ''}${r >= 1 ? ' flash' : ''}`;
				for (let i = 0; i < 5; i++) shiftEl.children[i].style.opacity = i < lights ? '1' : '0.25';
			}
		}
		setBar(bThrottle, 'th', f.throttle);
		setBar(bBrake, 'br', f.brake);
		setBar(bClutch, 'cl', f.clutch);
		setBar(bSteer, 'st', f.steer, true);
	}

	// The dash's numbers: speed, gear, rpm and the pedals' values (text is painted and
	// rasterised: every SLOW_TICKS-th tick, with the other painted panels).
	function drawDashText(f) {
		setText(speedEl, 'speed', fmt.num(f.speed_kmh, 0));
		setText(gearEl, 'gear', fmt.gear(f.gear));
		setText(rpmEl, 'rpm', `${fmt.num(f.rpm, 0)} rpm`);
		setBarText(bThrottle, 'th', f.throttle);
		setBarText(bBrake, 'br', f.brake);
		setBarText(bClutch, 'cl', f.clutch);
		setBarText(bSteer, 'st', f.steer, true);
	}

	function drawShiftNote(f) {
		const top = f.max_rpm > 0 ? f.max_rpm : maxRpmSeen > 3000 ? maxRpmSeen : 0;
		setText(shiftNote, 'shiftnote', shiftRpm ? `shift light at ${fmt.num(shiftRpm)} rpm: the car's analysed shift point`
			: top ? `shift light at 97 % of the ${f.max_rpm > 0 ? 'max' : 'highest seen'} rpm: no shift_points analysis of ${meta.car || 'this car'} yet`
				: 'no rpm range known yet');
	}

	// Drawing runs in ticks of one animation frame at most every TICK_MS (30 Hz), asked for by
	// a new frame of telemetry (never a loop of its own). Each tick moves what moves when there
	// is something new: the rpm bar, the shift light, the pedal bars (transforms of their own
	// compositor layers) and the car's dot; every SLOW_TICKS-th tick (10 Hz) everything that is
	// painted changes together: the numbers, the trace, the g-g trail, tyres and lap times.
	// Headless chromium composites in software and redraws one rectangle a frame, the union of
	// what changed: panels changed in the same frame share it; panels changed in different frames
	// would each widen the rectangle of the cheap 30 Hz frames to the whole page (docs/dashboard.md,
	// "Drawing"). An animation frame costs the browser a main frame even when it changes nothing,
	// so what is not due yet waits on a timer. A tick is asked for while anything waits, so the
	// last frame of a feed that stops is drawn everywhere; none when nothing waits.
	let tickT = -1e9, ticks = 0, timer = 0;
	function schedule() {
		if (raf || timer || !alive || !(fresh || slowDue)) return;
		const wait = tickT + TICK_MS - EARLY_MS - performance.now();
		if (wait <= 0) raf = requestAnimationFrame(draw);
		else
			timer = setTimeout(() => {
				timer = 0;
				if (!raf && alive) raf = requestAnimationFrame(draw);
			}, wait);
	}
	function draw() {
		raf = 0;
		const f = frame;
		if (!f) return;
		tickT = performance.now(); // not the frame's time, which is older when the frame was late
		ticks++;
		if (fresh) {
			fresh = false;
			drawMotion(f);
			drawMap(f);
		}
		if (slowDue && ticks % SLOW_TICKS === 0) {
			slowDue = false;
			drawDashText(f);
			drawGG();
			drawTrace();
			drawTyres(f);
			drawLap(f);
			drawShiftNote(f);
		}
		schedule();
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

	return () => {
		alive = false;
		cancelAnimationFrame(raf);
		clearTimeout(timer);
		clearInterval(hz);
		if (release) release();
		cleanups.forEach((f) => f());
	};
}
