// views/analysis.js - a completed session's analysis as charts (docs/analysis-*.md):
// shift points (acceleration per gear against speed and rpm, the optimal shift marked), car grip
// (envelope per speed bin, grip circle, steering response), track model (map with corners and
// sectors, curvature), general (laps table, per-corner time lost, corner table).
import { post, seg, ApiError } from '../api.js';
import { h, put, table, pill, toast } from '../dom.js';
import * as fmt from '../fmt.js';
import { uPlot, chart, dispose, axes, series, scatterSeries, markerHook, GEAR_COLORS, LAP_COLORS } from '../plot.js';
import { TrackMap } from '../trackmap.js';
import { finding } from './engineer.js';

// renderAnalysis(el, session, analysis) -> cleanup
export function renderAnalysis(el, session, a) {
	const charts = [];
	const maps = [];
	const ctx = { charts, maps, session };
	const uc = session.use_case;
	if (a && a.center_line) trackModel(el, a, ctx, true);
	else if (uc === 'shift_points') shiftPoints(el, a, ctx);
	else if (uc === 'car_grip') carGrip(el, a, ctx);
	else if (uc === 'general') general(el, a, ctx);
	else el.append(h('pre.mono', JSON.stringify(a, null, 1).slice(0, 4000)));
	if (a && Array.isArray(a.recommendations)) recommendations(el, a);
	return () => {
		charts.forEach(dispose);
		maps.forEach((m) => m.dispose());
	};
}

function kv(pairs) {
	return h('dl.kv', pairs.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v)]));
}

function box(title, ...content) {
	return h('div.card', { style: { background: 'var(--panel2)' } }, h('h3', title), content);
}

// --- shift points -------------------------------------------------------------------------------
function shiftPoints(el, a, ctx) {
	const gears = (a.gears || []).filter((g) => (g.accel_curve || []).length);
	el.append(kv([
		['recommended shift', a.recommended_shift_rpm ? `${fmt.num(a.recommended_shift_rpm)} rpm` : '—'],
		['runs analysed', fmt.num(a.runs_analyzed)],
		['frames analysed', `${fmt.num(a.total_frames_analyzed)} (${fmt.num(a.full_throttle_frames)} at full throttle)`],
		a.model ? ['engine model', `rms residual ${fmt.num(a.model.rms_residual_g, 4)} g, drag at 100 km/h ${fmt.num(a.model.drag_g_at_100kmh, 4)} g`] : null,
	]));
	const grid = h('div.grid2', { style: { marginTop: '10px' } });
	const bySpeed = h('div.chart#shift-speed-chart');
	const byRpm = h('div.chart#shift-rpm-chart');
	grid.append(box('acceleration per gear against speed (optimal upshift marked)', bySpeed),
		box('acceleration per gear against rpm', byRpm));
	el.append(grid);
	if (!gears.length) {
		put(bySpeed, h('p.muted', 'no gear has an acceleration curve'));
	} else {
		const mk = (xOf, xLabel, mark, target) => {
			const data = uPlot.join(gears.map((g) => [g.accel_curve.map((p) => xOf(g, p)), g.accel_curve.map((p) => p.accel_g)]));
			const marks = () => gears.map((g, i) => ({ x: mark(g), color: GEAR_COLORS[i % GEAR_COLORS.length], label: mark(g) ? `${g.gear}→${g.gear + 1}` : '' }));
			return chart(target, {
				height: 260,
				scales: { x: { time: false } },
				axes: axes(xLabel, 'g'),
				series: [{ label: xLabel }, ...gears.map((g, i) => series(`gear ${g.gear}`, GEAR_COLORS[i % GEAR_COLORS.length], { spanGaps: true, width: 2 }))],
				hooks: { draw: [markerHook(marks)] },
			}, data);
		};
		ctx.charts.push(mk((g, p) => p.speed_kmh, 'km/h', (g) => g.optimal_upshift_speed_kmh, bySpeed));
		ctx.charts.push(mk((g, p) => Math.round(p.speed_kmh * (g.rpm_per_kmh || 0)), 'rpm', (g) => g.optimal_upshift_rpm, byRpm));
	}
	el.append(h('div', { style: { marginTop: '10px' } }, table([
		{ label: 'gear', get: (g) => h('span', h('i.swatch', { style: { background: GEAR_COLORS[(gears.indexOf(g) + GEAR_COLORS.length) % GEAR_COLORS.length] } }), g.gear) },
		{ label: 'rpm', num: true, get: (g) => `${fmt.num(g.min_rpm)}–${fmt.num(g.max_rpm)}` },
		{ label: 'km/h', num: true, get: (g) => `${fmt.num(g.min_speed_kmh, 1)}–${fmt.num(g.max_speed_kmh, 1)}` },
		{ label: 'rpm per km/h', num: true, get: (g) => fmt.num(g.rpm_per_kmh, 2) },
		{ label: 'upshift at', num: true, get: (g) => (g.optimal_upshift_rpm ? `${fmt.num(g.optimal_upshift_rpm)} rpm` : '—') },
		{ label: 'at speed', num: true, get: (g) => (g.optimal_upshift_speed_kmh ? `${fmt.num(g.optimal_upshift_speed_kmh, 1)} km/h` : '—') },
		{ label: 'how', get: (g) => [g.crossover || '—', g.method ? ` (${g.method})` : ''] },
		{ label: 'samples', num: true, get: (g) => fmt.num(g.samples) },
	], a.gears || [])));
}

// --- car grip -----------------------------------------------------------------------------------
function carGrip(el, a, ctx) {
	const s = a.summary || {};
	el.append(kv([
		['max lateral', `${fmt.num(s.max_lateral_g, 3)} g at ${fmt.num(s.peak_lateral_speed_kmh, 1)} km/h`],
		['max acceleration', `${fmt.num(s.max_accel_g, 3)} g`],
		['max braking', `${fmt.num(s.max_brake_g, 3)} g`],
		['max combined', `${fmt.num(s.max_combined_g, 3)} g`],
		['frames analysed', `${fmt.num(a.total_frames_analyzed)} of ${fmt.num(a.runs_analyzed)} runs`],
	]));
	const env = h('div.chart#grip-envelope-chart');
	const circle = h('div.chart#grip-circle-chart');
	const steer = h('div.chart#grip-steer-chart');
	el.append(h('div', { style: { marginTop: '10px' } }, box('grip envelope per 10 km/h bin', env)),
		h('div.grid2', { style: { marginTop: '10px' } }, box('grip circle', circle), box('steering response', steer)));
	const E = a.grip_envelope || [];
	ctx.charts.push(chart(env, {
		height: 240,
		scales: { x: { time: false } },
		axes: axes('km/h', 'g'),
		series: [{ label: 'km/h' },
			series('max lateral g', '#5fb3ff', { width: 2, points: { show: true, size: 5 } }),
			series('max accel g', '#4cd07d', { width: 2, points: { show: true, size: 5 } }),
			series('max brake g', '#ff5f5f', { width: 2, points: { show: true, size: 5 } })],
	}, [E.map((b) => b.speed_kmh), E.map((b) => b.max_lateral_g), E.map((b) => b.max_accel_g), E.map((b) => b.max_brake_g)]));
	const C = a.grip_circle || [];
	const lim = Math.max(1, ...C.map((p) => Math.max(Math.abs(p.lateral_g), Math.abs(p.longitudinal_g)))) * 1.1;
	ctx.charts.push(chart(circle, {
		mode: 2,
		height: 300,
		legend: { live: false },
		cursor: { show: false },
		scales: { x: { time: false, range: [-lim, lim] }, y: { range: [-lim, lim] } },
		axes: axes('lateral g (+ right)', 'longitudinal g (+ forward)'),
		series: [{}, scatterSeries('frames', 'rgba(95,179,255,0.55)')],
	}, [null, [C.map((p) => p.lateral_g), C.map((p) => p.longitudinal_g)]]));
	const S = a.steering_response || [];
	const sl = Math.max(0.05, ...S.map((p) => Math.abs(p.steer))) * 1.1;
	const bins = [[0, 100, '#4cd07d', '< 100 km/h'], [100, 160, '#f2b84b', '100–160 km/h'], [160, 1e9, '#ff5f5f', '≥ 160 km/h']];
	ctx.charts.push(chart(steer, {
		mode: 2,
		height: 300,
		legend: { live: false },
		cursor: { show: false },
		scales: { x: { time: false, range: [-sl, sl] }, y: {} },
		axes: axes('steer (−1 left .. +1 right)', 'lateral g'),
		series: [{}, ...bins.map((b) => scatterSeries(b[3], b[2]))],
	}, [null, ...bins.map((b) => {
		const pts = S.filter((p) => p.speed_kmh >= b[0] && p.speed_kmh < b[1]);
		return [pts.map((p) => p.steer), pts.map((p) => p.lateral_g)];
	})]));
}

// --- track model --------------------------------------------------------------------------------
export function trackModel(el, m, ctx, fromSession) {
	el.append(kv([
		['track', `${m.track_name || '—'} (${m.game || '—'})`],
		['length', `${fmt.num(m.length_m, 1)} m`],
		['corners', fmt.num((m.corners || []).length)],
		['sectors', fmt.num((m.sectors || []).length)],
		['width', m.track_width && m.track_width.length ? `${fmt.num(Math.min(...m.track_width), 1)}–${fmt.num(Math.max(...m.track_width), 1)} m` : '—'],
		['built', fmt.when(m.created_at)],
	]));
	if (fromSession && ctx.session) {
		const btn = h('button.primary#track-save', {
			onclick: async () => {
				btn.disabled = true;
				try {
					const r = await post('/api/tracks/build', { session_id: ctx.session.id });
					toast(`Track model of ${r.track_name} saved: the live map and corner times use it`);
				} catch (e) {
					toast(`Track build: ${e instanceof ApiError ? `${e.message} (${e.status})` : e}`, 'error');
				} finally {
					btn.disabled = false;
				}
			},
		}, 'Save as the track model');
		el.append(h('div.row', { style: { margin: '8px 0' } }, btn,
			h('span.muted', 'builds the model from these runs and keeps it under Tracks')));
	}
	const canvas = h('canvas.map#track-model-map');
	const curv = h('div.chart#track-curvature-chart');
	el.append(h('div.grid2', { style: { marginTop: '10px' } },
		box('map: boundaries, sectors (colours), corners (number and direction)', canvas),
		box('curvature along the lap (+ right-hand)', curv)));
	const map = new TrackMap(canvas, { maxHeight: 460 });
	map.setModel(m);
	map.draw();
	ctx.maps.push(map);
	const n = (m.curvature || []).length;
	const sp = m.sample_spacing_m || 1;
	const xs = Array.from({ length: n }, (_, i) => i * sp);
	const corners = m.corners || [];
	ctx.charts.push(chart(curv, {
		height: 260,
		scales: { x: { time: false } },
		axes: axes('m from the line', '1/m'),
		series: [{ label: 'm' }, series('curvature', '#5fb3ff')],
		hooks: { draw: [markerHook(() => corners.map((c) => ({ x: c.apex_dist_m, color: c.direction === 'left' ? '#5fb3ff' : '#ff9f43', label: `${c.index}${c.direction === 'left' ? 'L' : 'R'}`, dash: [2, 3] })))] },
	}, [xs, m.curvature || []]));
	el.append(h('div', { style: { marginTop: '10px' } }, table([
		{ label: 'corner', get: (c) => c.index },
		{ label: 'direction', get: (c) => c.direction },
		{ label: 'entry m', num: true, get: (c) => fmt.num(c.entry_dist_m, 1) },
		{ label: 'apex m', num: true, get: (c) => fmt.num(c.apex_dist_m, 1) },
		{ label: 'exit m', num: true, get: (c) => fmt.num(c.exit_dist_m, 1) },
		{ label: 'angle °', num: true, get: (c) => fmt.num(c.angle_deg, 0) },
		{ label: 'min radius m', num: true, get: (c) => fmt.num(c.min_radius_m, 1) },
	], corners)));
	if ((m.sectors || []).length)
		el.append(h('p.muted', 'Sectors: ', m.sectors.map((s) => `S${s.index} ${fmt.num(s.start_dist_m, 0)}–${fmt.num(s.end_dist_m, 0)} m`).join(' · ')));
}

// --- general ------------------------------------------------------------------------------------
function general(el, a, ctx) {
	const laps = a.laps || [];
	const best = a.best_lap;
	const isBest = (l) => best && l.run_id === best.run_id && l.number === best.number;
	const c = a.consistency || {};
	el.append(kv([
		['best lap', best ? `${fmt.lapTime(best.time_ms)} (lap ${best.number})` : '—'],
		['valid laps', `${fmt.num(a.valid_lap_count)} of ${fmt.num(laps.length)}`],
		['average', fmt.lapTime(a.average_lap_ms)],
		['consistency', c.score === null || c.score === undefined ? '—' : `${fmt.num(c.score, 1)} / 100 (σ ${fmt.num(c.stddev_ms, 0)} ms, spread ${fmt.num(c.spread_ms, 0)} ms)`],
		a.track_model ? ['track model', `${a.track_model.track_name}, ${fmt.num(a.track_model.length_m, 0)} m, ${a.track_model.corner_count} corners (distance from ${a.track_model.distance_source})`] : null,
	]));
	const runIds = [...new Set(laps.map((l) => l.run_id))];
	const runLabel = (rid) => {
		const r = (ctx.session.runs || []).find((x) => x.id === rid);
		return r ? r.label || fmt.shortId(r.id) : fmt.shortId(rid);
	};
	el.append(h('div#laps-table', { style: { marginTop: '10px' } }, h('h3', 'laps'), table([
		{ label: 'run', get: (l) => (runIds.length > 1 ? runLabel(l.run_id) : runLabel(l.run_id)) },
		{ label: 'lap', num: true, get: (l) => l.number },
		{ label: 'time', num: true, get: (l) => h('span', { class: isBest(l) ? 'good' : '' }, fmt.lapTime(l.time_ms), isBest(l) ? ' ★' : '') },
		{ label: 'Δ best', num: true, get: (l) => (best && l.time_ms ? fmt.delta((l.time_ms - best.time_ms) / 1000) : '—') },
		{ label: 'valid', get: (l) => (l.valid ? pill('valid', 'ok') : pill(l.invalid_reason || 'invalid', 'warn')) },
		{ label: 'S1', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[0]) },
		{ label: 'S2', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[1]) },
		{ label: 'S3', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[2]) },
		{ label: 'min km/h', num: true, get: (l) => fmt.num(l.min_speed_kmh, 1) },
		{ label: 'max km/h', num: true, get: (l) => fmt.num(l.max_speed_kmh, 1) },
	], laps, { rowClass: (l) => (isBest(l) ? 'best' : '') })));
	const corners = a.corners || [];
	const cornerEl = h('div.chart#corner-chart');
	el.append(h('div', { style: { marginTop: '10px' } }, box('time lost per corner against the best lap (ms; + = slower)', cornerEl)));
	if (!corners.length) {
		put(cornerEl, h('p.muted#corner-none', 'No per-corner times: this track has no track model yet. Map it with a track_mapping session (runs labelled left and right), save the model, then analyse this session again.'));
		return;
	}
	// one series per lap (at most 6, the slowest overall first are the interesting ones: all valid laps but the best)
	const lapKeys = laps.filter((l) => !isBest(l)).slice(0, 6);
	const xs = corners.map((k) => k.index);
	const gain = corners.map((k) => {
		const b = (k.laps || []).find((l) => best && l.run_id === best.run_id && l.number === best.number);
		return b && k.fastest ? b.time_ms - k.fastest.time_ms : null;
	});
	const data = [xs, gain, ...lapKeys.map((l) => corners.map((k) => {
		const p = (k.laps || []).find((x) => x.run_id === l.run_id && x.number === l.number);
		return p && typeof p.time_lost_ms === 'number' ? p.time_lost_ms : null;
	}))];
	ctx.charts.push(chart(cornerEl, {
		height: 260,
		scales: { x: { time: false, range: [0.5, corners.length + 0.5] } },
		axes: [{ ...axes('corner', 'ms')[0], values: (u, v) => v.map((x) => (Number.isInteger(x) ? x : '')) }, axes('corner', 'ms')[1]],
		series: [{ label: 'corner' },
			{ label: 'best lap vs fastest passage', stroke: '#5fb3ff', fill: 'rgba(95,179,255,0.35)', paths: uPlot.paths.bars({ size: [0.6, 40] }), points: { show: false } },
			...lapKeys.map((l, i) => series(`lap ${l.number}${runIds.length > 1 ? ` (${runLabel(l.run_id)})` : ''}`, LAP_COLORS[(i + 1) % LAP_COLORS.length], { points: { show: true, size: 6 }, width: 1 }))],
	}, data));
	el.append(h('div', { style: { marginTop: '10px' } }, table([
		{ label: 'corner', get: (k) => `${k.index} ${k.direction === 'left' ? 'L' : 'R'}` },
		{ label: 'entry–exit m', num: true, get: (k) => `${fmt.num(k.entry_dist_m, 0)}–${fmt.num(k.exit_dist_m, 0)}` },
		{ label: 'fastest', num: true, get: (k) => (k.fastest ? `${fmt.num(k.fastest.time_ms)} ms (lap ${k.fastest.number})` : '—') },
		{ label: 'best lap', num: true, get: (k) => {
			const b = (k.laps || []).find((l) => best && l.run_id === best.run_id && l.number === best.number);
			return b ? `${fmt.num(b.time_ms)} ms` : '—';
		} },
		{ label: 'min km/h (best)', num: true, get: (k) => {
			const b = (k.laps || []).find((l) => best && l.run_id === best.run_id && l.number === best.number);
			return b ? fmt.num(b.min_speed_kmh, 1) : '—';
		} },
		{ label: 'most lost', num: true, get: (k) => {
			const m = (k.laps || []).filter((l) => typeof l.time_lost_ms === 'number').sort((p, q) => q.time_lost_ms - p.time_lost_ms)[0];
			return m ? `${fmt.num(m.time_lost_ms)} ms (lap ${m.number})` : '—';
		} },
	], corners)));
}

// The race engineer's report of a general session (docs/analysis-recommendations.md).
function recommendations(el, a) {
	const recs = a.recommendations || [];
	const box = h('div#recommendations', { style: { marginTop: '10px' } }, h('h3', 'race engineer'));
	if (!recs.length) box.append(h('p.muted', 'No setup change to suggest: every rule the data allowed is within its limits.'));
	for (const r of recs) box.append(finding(r));
	const ne = a.not_evaluated || [];
	if (ne.length)
		box.append(h('p.muted', { style: { fontSize: '12px' } }, 'Not evaluated, for want of channels this game does not send: ',
			ne.map((n) => `${n.title || n.rule} (${(n.missing || []).join(', ')})`).join('; ')));
	el.append(box);
}
