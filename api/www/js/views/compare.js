// views/compare.js - #/compare?ref=SID/RID/N&lap=SID/RID/N...[&step_m=1]: up to 6 laps on the
// reference's distance (GET /api/compare). Stacked charts - delta time, speed, throttle and brake,
// steer, gear and rpm, lateral g - share one cursor and one zoom (drag across any chart, double
// click to reset) with the track map (coloured by speed, braking or delta); the values at the
// cursor, the corner table, export buttons per lap.
import { get, ApiError } from '../api.js';
import { h, put, table, pill } from '../dom.js';
import * as fmt from '../fmt.js';
import { uPlot, chart, dispose, axes, LAP_COLORS } from '../plot.js';
import { TrackMap, heat, diverging } from '../trackmap.js';
import { exportButtons } from './exports.js';

const CHANNELS = 'speed_kmh,throttle,brake,steer,gear,rpm,accel_lat_g,pos_m';
const err = (e) => (e instanceof ApiError ? `${e.message} (${e.status} ${e.code})` : String(e.message || e));

// index of the last grid point <= x
function lowerIdx(xs, x) {
	let lo = 0, hi = xs.length - 1;
	if (x <= xs[0]) return 0;
	if (x >= xs[hi]) return hi;
	while (hi - lo > 1) {
		const m = (lo + hi) >> 1;
		if (xs[m] <= x) lo = m;
		else hi = m;
	}
	return lo;
}

export function mount(el, ctx) {
	const q = ctx.query;
	const ref = q.get('ref');
	const others = q.getAll('lap');
	const step = q.get('step_m') || '1';
	let alive = true;
	const charts = [];
	let map = null;
	let raf = 0;

	if (!ref || !others.length) {
		put(el, h('h1', 'Compare'), h('div.card', h('p', 'Pick two to six laps in the ', h('a', { href: '#/laps' }, 'laps view'),
			' (one of them the reference) and press Compare.')));
		return () => {};
	}
	put(el, h('h1', 'Compare'), h('p.muted#compare-loading', 'Putting the laps on the reference\'s distance…'));
	const path = `/api/compare?ref=${encodeURIComponent(ref)}${others.map((l) => `&lap=${encodeURIComponent(l)}`).join('')}&step_m=${encodeURIComponent(step)}&channels=${CHANNELS}`;
	Promise.all([get(path), get('/api/sessions').catch(() => [])]).then(([d, sessions]) => {
		if (alive) render(d, sessions || []);
	}).catch((x) => {
		if (alive) put(el, h('h1', 'Compare'), h('div.card', h('p.bad#compare-error', `These laps cannot be compared: ${err(x)}`),
			h('p', h('a', { href: '#/laps' }, 'Back to the laps'))));
	});

	function render(d, sessions) {
		const t0 = performance.now();
		const laps = [d.ref, ...(d.laps || [])];
		const xs = d.distance_m || [];
		const n = xs.length;
		const label = (l) => {
			const s = sessions.find((x) => x.id === l.session_id);
			const r = s && (s.runs || []).find((x) => x.id === l.run_id);
			return `${s ? s.label || s.use_case : fmt.shortId(l.session_id)} · ${r ? r.label || r.feed_name : fmt.shortId(l.run_id)} · lap ${l.number}`;
		};
		// a lap's name where the table above is not beside it: its number, with its run (and
		// session) when the laps come from more than one
		const oneRun = laps.every((l) => l.session_id === laps[0].session_id && l.run_id === laps[0].run_id);
		const oneSession = laps.every((l) => l.session_id === laps[0].session_id);
		const short = (l) => {
			if (oneRun) return `lap ${l.number}`;
			const full = label(l).split(' · ');
			return oneSession ? full.slice(1).join(' · ') : full.join(' · ');
		};
		const ch = (l, name) => (l.channels && l.channels[name]) || null;
		const color = (k) => LAP_COLORS[k % LAP_COLORS.length];
		const zeros = new Float64Array(n); // the reference against itself
		const deltaOf = (k) => (k === 0 ? zeros : laps[k].delta_s || []);
		const lastDelta = (k) => {
			const a = deltaOf(k);
			for (let i = a.length - 1; i >= 0; i--) if (a[i] !== null && a[i] !== undefined) return a[i];
			return null;
		};
		const diffs = laps.map((l) => (k0(l) ? null : l.time_ms > 0 && d.ref.time_ms > 0 ? (l.time_ms - d.ref.time_ms) / 1000 : null));
		function k0(l) {
			return l === d.ref;
		}

		// --- the laps ---------------------------------------------------------------------
		const legend = table([
			{ label: '', get: (l, k) => h('i.swatch', { style: { background: color(k) } }) },
			{ label: 'lap', get: (l, k) => [label(l), k === 0 ? h('b', ' (reference)') : ''] },
			{ label: 'time', num: true, get: (l) => fmt.lapTime(l.time_ms) },
			{ label: 'Δ lap time', num: true, get: (l, k) => h('span.lap-diff', { dataset: { k, diff: diffs[k] ?? '' }, class: diffs[k] > 0 ? 'bad' : diffs[k] < 0 ? 'good' : '' }, k === 0 ? '—' : fmt.delta(diffs[k])) },
			{ label: 'Δ at the line (chart)', num: true, get: (l, k) => h('span.chart-last', { dataset: { k, last: lastDelta(k) ?? '' } }, k === 0 ? '—' : fmt.delta(lastDelta(k))) },
			{ label: 'validity', get: (l) => (l.valid ? pill('valid', 'ok') : pill(l.invalid_reason || 'invalid', 'warn')) },
			{ label: 'export', get: (l) => exportButtons(l.session_id, l.run_id, l.number, `lap${l.number}-${fmt.shortId(l.run_id)}`) },
		], laps);
		const mode = h('select#map-mode', { 'aria-label': 'map colour' },
			h('option', { value: 'speed' }, 'map: speed'), h('option', { value: 'brake' }, 'map: braking'),
			h('option', { value: 'delta' }, `map: delta of ${laps.length > 1 ? short(laps[1]) : ''} against the reference`));
		const stepSel = h('select#compare-step', { 'aria-label': 'grid step' },
			['0.5', '1', '2', '5', '10'].map((s) => h('option', { value: s, selected: Number(s) === Number(step) }, `every ${s} m`)));
		stepSel.onchange = () => {
			const p = new URLSearchParams(q);
			p.set('step_m', stepSel.value);
			ctx.navigate(`#/compare?${p.toString()}`);
		};
		const resetBtn = h('button.small#compare-reset', { onclick: () => zoom(xs[0], xs[n - 1]) }, 'reset zoom');
		const chartsEl = h('div#compare-charts');
		const mapCanvas = h('canvas.map#compare-map');
		const valuesEl = h('div#cursor-values');
		const cornersEl = h('div#compare-corners');
		put(el,
			h('div.row.between', h('h1', 'Compare'),
				h('div.row', stepSel, mode, resetBtn, h('a.btn.small', { href: '#/laps' }, 'pick laps'))),
			h('section.card', legend,
				h('p.muted', { style: { margin: '6px 0 0', fontSize: '12px' } },
					`${n} points every ${fmt.num(d.step_m, d.step_m < 1 ? 1 : 0)} m over ${fmt.num(d.length_m, 0)} m, aligned by ${d.alignment}; `,
					'drag across a chart to zoom all of them and the map, double-click to reset.')),
			h('div.cmp', { style: { marginTop: '12px' } },
				h('section.card', chartsEl),
				h('div.cmp-side.stack',
					h('section.card', h('h3', 'track'), mapCanvas),
					h('section.card', h('h3', 'at the cursor'), valuesEl))),
			h('section.card', { style: { marginTop: '12px' } }, h('h3', `corners (${d.corners_source || 'track model'})`), cornersEl));

		// --- the charts -------------------------------------------------------------------
		let syncing = false;
		let cursorIdx = null;
		const panels = [
			{ id: 'delta', title: 'delta time against the reference, s (+ = slower)', unit: 's', height: 170,
				series: laps.map((l, k) => ({ label: k ? short(l) : `reference (${short(l)})`, color: color(k), data: deltaOf(k) })) },
			{ id: 'speed', title: 'speed, km/h', unit: 'km/h', series: laps.map((l, k) => ({ color: color(k), data: ch(l, 'speed_kmh') })) },
			{ id: 'pedals', title: 'throttle (solid) and brake (dashed), 0..1', unit: '', range: [0, 1.02],
				series: laps.flatMap((l, k) => [{ color: color(k), data: ch(l, 'throttle') }, { color: color(k), dash: [4, 3], data: ch(l, 'brake') }]) },
			{ id: 'steer', title: 'steer, −1 (left) .. +1 (right)', unit: '', series: laps.map((l, k) => ({ color: color(k), data: ch(l, 'steer') })) },
			{ id: 'gear', title: 'rpm (lines, left) and gear (steps, right)', unit: 'rpm', gear: true,
				series: laps.flatMap((l, k) => [{ color: color(k), data: ch(l, 'rpm') }, { color: color(k), data: ch(l, 'gear'), scale: 'gear', dash: [2, 2] }]) },
			{ id: 'latg', title: 'lateral g (+ right)', unit: 'g', series: laps.map((l, k) => ({ color: color(k), data: ch(l, 'accel_lat_g') })) },
		];
		// The panels in view when the page opens (delta, speed, pedals at 1280x800) are drawn at
		// once; the others, below the fold, each in a task of its own after the first screen is
		// drawn (their boxes already hold their height, so nothing moves). A chart created late
		// takes the zoom the others have by then.
		const SHOWN_FIRST = 3;
		const later = [];
		panels.forEach((p, i) => {
			const box = h(`div.chart#chart-${p.id}`, { style: { minHeight: `${p.height || 130}px` } });
			chartsEl.append(h('div.chart-title', p.title), box);
			if (i < SHOWN_FIRST) makeChart(p, box);
			else later.push(() => makeChart(p, box));
		});
		function makeChart(p, box) {
			const present = p.series.filter((s) => s.data);
			if (!present.length) {
				put(box, h('p.muted', 'no lap has this channel'));
				box.style.minHeight = '0';
				return;
			}
			const scales = { x: { time: false } };
			if (p.range) scales.y = { range: p.range };
			const ax = axes('', p.unit);
			ax[0].size = 24;
			const opts = {
				height: p.height || 130,
				legend: { show: false },
				scales,
				axes: p.gear ? [ax[0], ax[1], { ...ax[1], scale: 'gear', side: 1, grid: { show: false }, label: 'gear', size: 36, incrs: [1] }] : ax,
				cursor: { sync: { key: 'pitwall-compare', setSeries: false }, drag: { x: true, y: false, setScale: true }, points: { size: 5 } },
				series: [{ label: 'm' }, ...present.map((s) => ({
					stroke: s.color, width: 1, dash: s.dash, scale: s.scale || 'y', points: { show: false }, spanGaps: false,
					paths: s.scale === 'gear' ? uPlot.paths.stepped({ align: 1 }) : undefined,
				}))],
				hooks: {
					setScale: [(u, key) => {
						if (key !== 'x' || syncing) return;
						syncing = true;
						for (const o of charts) if (o !== u) o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max });
						syncing = false;
						highlight(u.scales.x.min, u.scales.x.max);
					}],
					setCursor: [(u) => {
						if (u.cursor.idx !== null && u.cursor.idx !== undefined && u.cursor.idx !== cursorIdx) {
							cursorIdx = u.cursor.idx;
							if (!raf) raf = requestAnimationFrame(showCursor);
						}
					}],
				},
			};
			if (p.gear) opts.scales.gear = { range: (u, lo, hi) => [0, Math.max(6, hi + 1)] };
			const u = chart(box, opts, [xs, ...present.map((s) => s.data)]);
			u._panel = p.id;
			const zoomed = charts[0] && charts[0].scales.x;
			charts.push(u);
			if (zoomed && zoomed.min !== null && (zoomed.min > xs[0] || zoomed.max < xs[n - 1]))
				u.setScale('x', { min: zoomed.min, max: zoomed.max });
			if (p.id === 'delta') {
				box.dataset.last = JSON.stringify(laps.map((l, k) => lastDelta(k)));
			}
		}

		// --- the map ----------------------------------------------------------------------
		const refPos = (ch(d.ref, 'pos_m') || []).map((p) => (p ? [p[0], p[2]] : null));
		map = new TrackMap(mapCanvas, { maxHeight: 380 });
		const paint = () => {
			const m = mode.value;
			let values, range, palette = heat;
			if (m === 'speed') {
				values = ch(d.ref, 'speed_kmh') || [];
				const v = values.filter((x) => x !== null);
				range = [Math.min(...v), Math.max(...v)];
			} else if (m === 'brake') {
				values = ch(d.ref, 'brake') || [];
				range = [0, 1];
			} else {
				// how fast the second lap loses (red) or gains (green) time on the reference, over +-10 m
				const dl = deltaOf(1);
				const w = Math.max(1, Math.round(10 / (d.step_m || 1)));
				values = dl.map((v, i) => (dl[Math.min(n - 1, i + w)] ?? v) - (dl[Math.max(0, i - w)] ?? v));
				const a = Math.max(1e-3, ...values.filter((x) => x !== null).map(Math.abs));
				range = [-a, a];
				palette = (f) => (f >= 0.5 ? diverging((f - 0.5) * 2) : diverging(0));
			}
			map.setTraces([{ points: refPos, values, range, palette, width: 3 }]);
			map.draw();
		};
		mode.onchange = paint;
		paint();
		if (!refPos.some(Boolean)) mapCanvas.replaceWith(h('p.muted', 'the reference lap has no world positions: no map'));

		function highlight(lo, hi) {
			if (lo === null || hi === null || lo === undefined || !n) return;
			const a = lowerIdx(xs, lo), b = lowerIdx(xs, hi);
			map.setHighlight(a <= 0 && b >= n - 1 ? null : { trace: 0, from: a, to: b });
			map.draw();
		}

		function zoom(lo, hi) {
			if (charts[0]) charts[0].setScale('x', { min: lo, max: hi });
		}

		// --- values at the cursor ---------------------------------------------------------
		function showCursor() {
			raf = 0;
			const i = cursorIdx;
			if (i === null || i === undefined) return;
			const v = (l, c, dg) => {
				const a = ch(l, c);
				return a && a[i] !== null && a[i] !== undefined ? fmt.num(a[i], dg) : '—';
			};
			put(valuesEl, h('p.muted', { style: { margin: '0 0 4px' } }, `at ${fmt.num(xs[i], 1)} m`), table([
				{ label: '', get: (l, k) => h('i.swatch', { style: { background: color(k) } }) },
				{ label: 'Δ s', num: true, get: (l, k) => (k === 0 ? '—' : fmt.delta(deltaOf(k)[i])) },
				{ label: 'km/h', num: true, get: (l) => v(l, 'speed_kmh', 1) },
				{ label: 'thr', num: true, get: (l) => v(l, 'throttle', 2) },
				{ label: 'brk', num: true, get: (l) => v(l, 'brake', 2) },
				{ label: 'steer', num: true, get: (l) => v(l, 'steer', 2) },
				{ label: 'gear', num: true, get: (l) => v(l, 'gear', 0) },
				{ label: 'rpm', num: true, get: (l) => v(l, 'rpm', 0) },
				{ label: 'lat g', num: true, get: (l) => v(l, 'accel_lat_g', 2) },
			], laps));
			map.setDots(laps.map((l, k) => {
				const p = (ch(l, 'pos_m') || [])[i];
				return p ? { x: p[0], z: p[2], color: color(k), r: k === 0 ? 6 : 5 } : null;
			}).filter(Boolean));
			map.draw();
		}
		cursorIdx = 0;
		showCursor();

		// --- corners ----------------------------------------------------------------------
		const corners = d.corners || [];
		if (!corners.length) put(cornersEl, h('p.muted', 'no corners found on this lap'));
		else put(cornersEl, table([
			{ label: 'corner', get: (c) => `${c.number} ${c.direction === 'left' ? 'L' : 'R'}` },
			{ label: 'm', num: true, get: (c) => `${fmt.num(c.start_m, 0)}–${fmt.num(c.end_m, 0)}` },
			{ label: `reference (${short(laps[0])})`, num: true, get: (c) => `${fmt.num(c.ref_s, 3)} s · ${fmt.num(c.ref_min_speed_kmh, 1)} km/h` },
			...laps.slice(1).map((l, j) => ({
				label: h('span', h('i.swatch', { style: { background: color(j + 1) } }), short(l)),
				num: true,
				get: (c) => {
					const x = (c.laps || [])[j];
					if (!x) return '—';
					return h('span', { title: `${fmt.num(x.time_s, 3)} s, min ${fmt.num(x.min_speed_kmh, 1)} km/h, brakes ${fmt.num(x.brake_point_delta_m, 1)} m ${x.brake_point_delta_m >= 0 ? 'later' : 'earlier'}` },
						h('span', { class: x.delta_s > 0.005 ? 'bad' : x.delta_s < -0.005 ? 'good' : '' }, fmt.delta(x.delta_s)),
						h('span.muted', ` · ${fmt.num(x.min_speed_kmh, 1)} km/h · brake ${x.brake_point_delta_m === null ? '—' : `${x.brake_point_delta_m > 0 ? '+' : ''}${fmt.num(x.brake_point_delta_m, 1)} m`}`));
				},
			})),
		], corners, { onrow: (c) => zoom(Math.max(xs[0], c.start_m - 60), Math.min(xs[n - 1], c.end_m + 60)) }));

		// how long drawing took after the data came, to the first screen and to the last chart
		// (make bench reads both)
		requestAnimationFrame(() => requestAnimationFrame(() => {
			el.dataset.drawMs = (performance.now() - t0).toFixed(1);
			const next = () => {
				if (!alive) return;
				const f = later.shift();
				if (f) {
					f();
					setTimeout(next, 0);
				} else {
					requestAnimationFrame(() => requestAnimationFrame(() => {
						el.dataset.drawAllMs = (performance.now() - t0).toFixed(1);
					}));
				}
			};
			setTimeout(next, 0);
		}));
	}

	return () => {
		alive = false;
		cancelAnimationFrame(raf);
		charts.forEach(dispose);
		if (map) map.dispose();
	};
}

