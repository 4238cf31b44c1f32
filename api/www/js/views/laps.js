// views/laps.js - #/laps?session=ID, or #/laps?car=CAR&track=TRACK (every session with that car
// on that track): every lap with its time, validity reason, sectors and the best marked; pick up to
// 6 laps, one of them the reference, and compare them; export a lap or its whole run (CSV, MoTeC
// .ld + .ldx, Parquet).
import { get, seg, ApiError } from '../api.js';
import { h, put, table, pill, debounce } from '../dom.js';
import * as fmt from '../fmt.js';
import { LAP_COLORS } from '../plot.js';
import { exportButtons } from './exports.js';

const MAX_PICK = 6;
const err = (e) => (e instanceof ApiError ? `${e.message} (${e.status})` : String(e.message || e));
const key = (l) => `${l.session_id}/${l.run_id}/${l.number}`;

export function mount(el, ctx) {
	const { stream } = ctx;
	let alive = true;
	let sessions = [];
	let laps = [];
	let picked = []; // keys, in pick order
	let refKey = null; // the reference: the driver's choice, else the fastest valid lap picked
	let refChosen = false;
	const q = ctx.query;
	const srcSel = h('select#laps-source', { 'aria-label': 'laps of', onchange: () => ctx.navigate(`#/laps?${srcSel.value}`) });
	const listEl = h('div', h('p.muted', 'Loading…'));
	const compareBtn = h('button.primary#laps-compare', { disabled: true, onclick: compare }, 'Compare');
	const pickNote = h('span.muted#laps-picked', '');
	put(el,
		h('div.row.between', h('h1', 'Laps'), h('div.row', h('label.field', 'laps of', srcSel))),
		h('section.card', h('div.row.between', { style: { marginBottom: '8px' } },
			h('span.muted', `Pick up to ${MAX_PICK} laps; the reference (◉) is the fastest valid one unless you choose it. The comparison puts every lap on the reference's distance.`),
			h('div.row', pickNote, compareBtn)), listEl));

	// the fastest valid lap picked (a standing start or a cut is a poor yardstick), else the first
	function fastestPicked() {
		const timed = laps.filter((l) => picked.includes(key(l)) && l.valid && l.time_ms > 0);
		timed.sort((a, b) => a.time_ms - b.time_ms);
		return timed.length ? key(timed[0]) : picked[0] || null;
	}

	function compare() {
		if (picked.length < 2) return;
		const ref = refKey && picked.includes(refKey) ? refKey : picked[0];
		const others = picked.filter((k) => k !== ref);
		ctx.navigate(`#/compare?ref=${encodeURIComponent(ref)}${others.map((k) => `&lap=${encodeURIComponent(k)}`).join('')}`);
	}

	async function load() {
		try {
			sessions = (await get('/api/sessions')) || [];
		} catch (x) {
			put(listEl, h('p.bad', `Cannot read the sessions: ${err(x)}`));
			return;
		}
		if (!alive) return;
		sessions.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
		// sources: each session with laps, then each car and track
		const withLaps = sessions.filter((s) => (s.runs || []).some((r) => r.lap_count > 0));
		const pairs = new Map();
		for (const s of withLaps)
			for (const r of s.runs || [])
				if (s.car_name && r.track && r.lap_count > 0) pairs.set(`${s.car_name}\u0000${r.track}`, [s.car_name, r.track]);
		let want = q.get('session') ? `session=${q.get('session')}` : q.get('car') ? `car=${encodeURIComponent(q.get('car'))}&track=${encodeURIComponent(q.get('track') || '')}` : '';
		if (!want && withLaps.length) want = `session=${withLaps[0].id}`;
		const opts = [
			...withLaps.map((s) => ({ v: `session=${s.id}`, t: `session: ${s.label || s.use_case} · ${fmt.when(s.created_at)}` })),
			...[...pairs.values()].map(([c, t]) => ({ v: `car=${encodeURIComponent(c)}&track=${encodeURIComponent(t)}`, t: `${c} on ${t}, every session` })),
		];
		if (want && !opts.some((o) => o.v === want)) opts.unshift({ v: want, t: want.startsWith('session=') ? 'this session (no laps yet)' : 'this car and track' });
		put(srcSel, opts.map((o) => h('option', { value: o.v, selected: o.v === want }, o.t)));
		if (!want) {
			put(listEl, h('p.empty', 'No laps yet: record a run in a session and drive a few laps.'));
			return;
		}
		let chosen;
		const p = new URLSearchParams(want);
		if (p.get('session')) chosen = sessions.filter((s) => s.id === p.get('session'));
		else chosen = sessions.filter((s) => s.car_name === p.get('car') && (s.runs || []).some((r) => r.track === p.get('track')));
		try {
			const all = await Promise.all(chosen.map((s) => get(`/api/sessions/${seg(s.id)}/laps`).then((ls) => (ls || []).map((l) => ({ ...l, session_id: s.id, session: s })))));
			laps = all.flat();
			if (p.get('track')) laps = laps.filter((l) => {
				const r = (l.session.runs || []).find((x) => x.id === l.run_id);
				return r && r.track === p.get('track');
			});
		} catch (x) {
			put(listEl, h('p.bad', `Cannot read the laps: ${err(x)}`));
			return;
		}
		if (!alive) return;
		picked = picked.filter((k) => laps.some((l) => key(l) === k));
		render();
	}

	function render() {
		const valid = laps.filter((l) => l.valid && l.time_ms > 0);
		const best = valid.reduce((b, l) => (!b || l.time_ms < b.time_ms ? l : b), null);
		const multi = new Set(laps.map((l) => l.session_id)).size > 1;
		const runLabel = (l) => {
			const r = (l.session.runs || []).find((x) => x.id === l.run_id);
			return r ? r.label || `${r.feed_name} ${fmt.shortId(r.id)}` : fmt.shortId(l.run_id);
		};
		pickNote.textContent = `${picked.length} of ${MAX_PICK} picked`;
		compareBtn.disabled = picked.length < 2;
		if (!laps.length) {
			put(listEl, h('p.empty', 'No laps in this selection yet.'));
			return;
		}
		put(listEl, table([
			{ label: 'pick', get: (l) => {
				const k = key(l);
				const i = picked.indexOf(k);
				return h('label', { style: { whiteSpace: 'nowrap' } }, h('input.lap-pick', {
					type: 'checkbox', checked: i >= 0, disabled: i < 0 && picked.length >= MAX_PICK, dataset: { lap: k },
					onchange: (e) => {
						if (e.target.checked) picked.push(k);
						else picked = picked.filter((x) => x !== k);
						if (!refChosen || !picked.includes(refKey)) refKey = fastestPicked();
						render();
					},
				}), i >= 0 ? h('i.swatch', { style: { background: LAP_COLORS[i % LAP_COLORS.length], marginLeft: '6px' } }) : null);
			} },
			{ label: 'ref', title: 'the reference lap', get: (l) => h('input.lap-ref', {
				type: 'radio', name: 'ref', checked: refKey === key(l), disabled: !picked.includes(key(l)), dataset: { lap: key(l) },
				onchange: () => { refKey = key(l); refChosen = true; },
			}) },
			multi ? { label: 'session', get: (l) => h('a', { href: `#/sessions/${l.session_id}` }, l.session.label || fmt.shortId(l.session_id)) } : null,
			{ label: 'run', get: (l) => runLabel(l) },
			{ label: 'lap', num: true, get: (l) => l.number },
			{ label: 'time', num: true, get: (l) => h('span', { class: l === best ? 'good' : '' }, fmt.lapTime(l.time_ms), l === best ? ' ★' : '') },
			{ label: 'Δ best', num: true, get: (l) => (best && l.time_ms > 0 ? fmt.delta((l.time_ms - best.time_ms) / 1000) : '—') },
			{ label: 'validity', get: (l) => (l.valid ? pill('valid', 'ok') : pill(l.invalid_reason || 'invalid', 'warn')) },
			{ label: 'S1', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[0]) },
			{ label: 'S2', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[1]) },
			{ label: 'S3', num: true, get: (l) => fmt.lapTime((l.sector_ms || [])[2]) },
			{ label: 'min–max km/h', num: true, get: (l) => `${fmt.num(l.min_speed_kmh, 0)}–${fmt.num(l.max_speed_kmh, 0)}` },
			{ label: 'export lap', get: (l) => exportButtons(l.session_id, l.run_id, l.number, `${l.session.label || 'lap'}-lap${l.number}`) },
		].filter(Boolean), laps, { rowClass: (l) => [l === best ? 'best' : '', picked.includes(key(l)) ? 'sel' : ''].join(' ').trim() }));
		if (multi || laps.length) {
			const runs = new Map();
			for (const l of laps) runs.set(`${l.session_id}/${l.run_id}`, l);
			listEl.append(h('div', { style: { marginTop: '12px' } }, h('h3', 'export a whole run'),
				h('div.stack', [...runs.values()].map((l) => h('div.row', h('span', { style: { minWidth: '180px' } }, `${l.session.label || fmt.shortId(l.session_id)} · ${runLabel(l)}`),
					exportButtons(l.session_id, l.run_id, null, `${l.session.label || 'run'}-${runLabel(l)}`))))));
		}
	}

	const reload = debounce(load, 200);
	const onEvent = (e) => {
		const t = e.detail.type;
		if (t === 'lap_completed' || t === 'lap_invalidated' || t.startsWith('run.') || t.startsWith('session.')) reload();
	};
	stream.addEventListener('event', onEvent);
	load();
	return () => {
		alive = false;
		stream.removeEventListener('event', onEvent);
	};
}
