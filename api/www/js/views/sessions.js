// views/sessions.js - #/sessions: the list and a new session with its use case's guidance;
// #/sessions/ID: one session - its runs (start on a feed, the live frame count, stop, delete,
// export), complete / reopen / analyse again / delete, and its analysis as charts. Changes made
// anywhere (another tab, pwctl) arrive as stream events and the view reads again: no polling.
import { get, post, del, seg, ApiError } from '../api.js';
import { h, put, table, pill, toast, confirmDialog, debounce } from '../dom.js';
import * as fmt from '../fmt.js';
import { renderAnalysis } from './analysis.js';
import { exportButtons } from './exports.js';

const EVENTS = ['session.created', 'session.completed', 'session.reopened', 'session.deleted', 'run.started',
	'run.stopped', 'run.resumed', 'run.deleted', 'run.error', 'analysis.pending', 'analysis.completed',
	'analysis.failed', 'lap_completed'];

function errText(e) {
	return e instanceof ApiError ? `${e.message} (${e.status} ${e.code})` : String(e.message || e);
}

export function trackOf(s) {
	const t = new Set((s.runs || []).map((r) => r.track).filter(Boolean));
	return [...t].join(', ');
}

function lapsOf(s) {
	return (s.runs || []).reduce((n, r) => n + (r.lap_count || 0), 0);
}

export function mount(el, ctx) {
	return ctx.parts[0] ? mountDetail(el, ctx, ctx.parts[0]) : mountList(el, ctx);
}

// --- the list ---------------------------------------------------------------------------------
function mountList(el, ctx) {
	const { stream } = ctx;
	let sessions = [];
	let useCases = [];
	let alive = true;
	const ucSel = h('select#new-use-case', { 'aria-label': 'use case', onchange: () => showGuidance() });
	const labelIn = h('input#new-label', { placeholder: 'label (optional)', maxlength: 200 });
	const guidance = h('div.guidance#new-guidance', '');
	const createBtn = h('button.primary#new-create', { type: 'submit' }, 'Create session');
	const listEl = h('div', h('p.muted', 'Loading…'));

	put(el,
		h('div.row.between', h('h1', 'Sessions')),
		h('div.grid2', { style: { alignItems: 'start' } },
			h('section.card',
				h('h2', 'New session'),
				h('form.stack', { onsubmit: create },
					h('div.row', h('label.field', 'use case', ucSel), h('label.field', { style: { flex: 1 } }, 'label', labelIn)),
					guidance,
					createBtn)),
			h('section.card',
				h('h2', 'How a session goes'),
				h('ol.muted', { style: { margin: 0, paddingLeft: '18px' } },
					h('li', 'Create it for what you want to learn (the use case) and read its guidance.'),
					h('li', 'Start a run on the feed the game sends to, drive, stop the run. Several runs are fine.'),
					h('li', 'Complete the session: pitwall analyses every run and shows the result as charts.'),
					h('li', 'Compare laps and export them (CSV, MoTeC, Parquet) from the laps view.')))),
		h('section.card', { style: { marginTop: '12px' } }, h('h2', 'All sessions'), listEl));

	function showGuidance() {
		const uc = ucSel.value;
		const s = sessions.find((x) => x.use_case === uc && x.guidance);
		put(guidance, s ? [h('b', `${uc}: `), s.guidance]
			: [h('b', `${uc}: `), h('span.muted', 'the use case\'s guidance is shown here once a session of it exists, and on the session\'s page.')]);
	}

	async function create(e) {
		e.preventDefault();
		createBtn.disabled = true;
		try {
			const body = { use_case: ucSel.value };
			if (labelIn.value.trim()) body.label = labelIn.value.trim();
			const s = await post('/api/sessions', body);
			toast(`Session created: ${s.label || s.use_case}`);
			ctx.navigate(`#/sessions/${s.id}`);
		} catch (err) {
			toast(`Cannot create the session: ${errText(err)}`, 'error');
		} finally {
			createBtn.disabled = false;
		}
	}

	async function load() {
		try {
			const [list, ucs] = await Promise.all([get('/api/sessions'), useCases.length ? useCases : get('/api/use-cases')]);
			if (!alive) return;
			sessions = (list || []).slice().sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
			if (!useCases.length) {
				useCases = ucs || [];
				put(ucSel, useCases.map((u) => h('option', { value: u, selected: u === 'general' }, u)));
			}
			showGuidance();
			render();
		} catch (err) {
			put(listEl, h('p.bad', `Cannot read the sessions: ${errText(err)}`));
		}
	}

	function render() {
		if (!sessions.length) {
			put(listEl, h('p.empty', 'No sessions yet: create one above.'));
			return;
		}
		put(listEl, table([
			{ label: 'label', get: (s) => h('a', { href: `#/sessions/${s.id}` }, s.label || h('span.muted', fmt.shortId(s.id))) },
			{ label: 'use case', get: (s) => s.use_case },
			{ label: 'status', get: (s) => [pill(s.status), (s.runs || []).some((r) => r.status === 'recording') ? [' ', pill('recording')] : null] },
			{ label: 'car', get: (s) => s.car_name || '—' },
			{ label: 'track', get: (s) => trackOf(s) || '—' },
			{ label: 'runs', num: true, get: (s) => (s.runs || []).length },
			{ label: 'laps', num: true, get: (s) => lapsOf(s) },
			{ label: 'created', get: (s) => fmt.when(s.created_at) },
		], sessions, { onrow: (s, e) => { if (e.target.tagName !== 'A') ctx.navigate(`#/sessions/${s.id}`); } }));
	}

	const reload = debounce(load, 150);
	const onEvent = (e) => {
		if (EVENTS.includes(e.detail.type)) reload();
	};
	stream.addEventListener('event', onEvent);
	load();
	return () => {
		alive = false;
		stream.removeEventListener('event', onEvent);
	};
}

// --- one session ------------------------------------------------------------------------------
function mountDetail(el, ctx, id) {
	const { stream } = ctx;
	let s = null;
	let alive = true;
	let release = null;
	let analysisCleanup = null;
	let analysisKey = '';
	const liveCount = new Map(); // run id -> frames counted from the stream
	const head = h('div');
	const actions = h('div.row');
	const runsEl = h('div');
	const startEl = h('div');
	const analysisEl = h('div');

	put(el, head,
		h('section.card', { style: { marginTop: '12px' } }, h('div.row.between', h('h2', 'Runs'), startEl), runsEl),
		h('section.card#analysis', { style: { marginTop: '12px' } }, h('h2', 'Analysis'), analysisEl));

	async function load() {
		try {
			const got = await get(`/api/sessions/${seg(id)}`);
			if (!alive) return;
			s = got;
			render();
		} catch (err) {
			if (!alive) return;
			if (err instanceof ApiError && err.status === 404) {
				put(el, h('div.card', h('h1', 'No such session'), h('p', 'It was deleted, or the link is wrong. ',
					h('a', { href: '#/sessions' }, 'All sessions'))));
				return;
			}
			put(head, h('p.bad', `Cannot read the session: ${errText(err)}`));
		}
	}

	async function act(what, fn) {
		try {
			await fn();
		} catch (err) {
			toast(`${what}: ${errText(err)}`, 'error');
		}
		load();
	}

	function render() {
		const recording = (s.runs || []).filter((r) => r.status === 'recording');
		put(head,
			h('div.row.between',
				h('div', h('h1', { style: { marginBottom: '4px' } }, s.label || `${s.use_case} session`),
					h('div.row.muted', { style: { gap: '8px' } }, pill(s.status), h('span', s.use_case),
						h('span', `car: ${s.car_name || '—'}`), h('span', `track: ${trackOf(s) || '—'}`),
						h('span', `created ${fmt.when(s.created_at)}`),
						s.completed_at ? h('span', `completed ${fmt.when(s.completed_at)}`) : null)),
				actions),
			s.guidance ? h('div.guidance#session-guidance', { style: { marginTop: '10px' } }, h('b', 'Guidance: '), s.guidance) : null);
		put(actions,
			h('a.btn#session-laps', { href: `#/laps?session=${s.id}` }, 'Laps and compare'),
			s.status === 'active' ? h('button.primary#session-complete', {
				disabled: recording.length > 0, title: recording.length ? 'stop the recording runs first' : 'queue the analysis',
				onclick: () => act('Complete', () => post(`/api/sessions/${seg(id)}/complete`)),
			}, 'Complete') : null,
			s.status === 'completed' ? h('button#session-reopen', { onclick: () => act('Reopen', () => post(`/api/sessions/${seg(id)}/reopen`)) }, 'Reopen') : null,
			s.status === 'completed' ? h('button#session-analyze', { onclick: () => act('Analyse again', () => post(`/api/sessions/${seg(id)}/analyze`)) }, 'Analyse again') : null,
			h('button.danger#session-delete', {
				disabled: recording.length > 0,
				onclick: async () => {
					if (!(await confirmDialog(`Delete the session "${s.label || s.use_case}" with its ${(s.runs || []).length} runs and their frames? This cannot be undone.`))) return;
					try {
						await del(`/api/sessions/${seg(id)}`);
						toast('Session deleted');
						ctx.navigate('#/sessions');
					} catch (err) {
						toast(`Delete: ${errText(err)}`, 'error');
					}
				},
			}, 'Delete'));
		renderStart();
		renderRuns();
		renderAnalysisPart();
		// the live frame count of recording runs: their feeds' frames, a few times a second
		const feeds = [...new Set(recording.map((r) => r.feed_name))];
		if (release) release();
		release = feeds.length ? stream.need({ rate: 4, feeds }) : null;
	}

	// The start form is made once and only its feed list is refreshed, so a re-render (an
	// event arrived) never loses what the driver picked or typed.
	let startForm = null;
	const feedSel = h('select#run-feed', { 'aria-label': 'feed' });
	const runLabel = h('input#run-label', { placeholder: 'run label (optional)', maxlength: 200, style: { width: '160px' } });
	const startBtn = h('button.primary#run-start', { type: 'submit' }, 'Start run');
	function renderStart() {
		if (s.status !== 'active') {
			startForm = null;
			put(startEl, h('span.muted', 'reopen the session to add runs'));
			return;
		}
		const feeds = [...stream.feeds.values()];
		const keep = feedSel.value;
		const up = feeds.find((f) => f.status === 'up');
		const pick = feeds.some((f) => f.name === keep) ? keep : up ? up.name : (feeds[0] || {}).name;
		put(feedSel, feeds.map((f) => h('option', { value: f.name, selected: f.name === pick }, `${f.name} (${f.status})`)));
		startBtn.disabled = false;
		if (startForm) return;
		startForm = h('form.row', {
			onsubmit: (e) => {
				e.preventDefault();
				startBtn.disabled = true;
				const body = { feed_name: feedSel.value };
				if (runLabel.value.trim()) body.label = runLabel.value.trim();
				runLabel.value = '';
				act('Start run', () => post(`/api/sessions/${seg(id)}/runs`, body));
			},
		}, feedSel, runLabel, startBtn);
		put(startEl, startForm);
	}

	function renderRuns() {
		const runs = s.runs || [];
		if (!runs.length) {
			put(runsEl, h('p.empty', s.status === 'active' ? 'No runs yet: pick the feed the game sends to and start one.' : 'No runs.'));
			return;
		}
		put(runsEl, table([
			{ label: 'run', get: (r) => r.label || h('span.muted', fmt.shortId(r.id)) },
			{ label: 'feed', get: (r) => r.feed_name },
			{ label: 'status', get: (r) => [pill(r.status), r.data_truncated ? [' ', pill('truncated', 'warn')] : null] },
			{ label: 'frames', num: true, get: (r) => h('span.run-frames', { dataset: { run: r.id } }, fmt.num(frames(r))) },
			{ label: 'laps', num: true, get: (r) => fmt.num(r.lap_count) },
			{ label: 'lost', num: true, get: (r) => fmt.num(r.frames_lost) },
			{ label: 'track', get: (r) => r.track || '—' },
			{ label: 'started', get: (r) => fmt.when(r.started_at) },
			{ label: '', get: (r) => h('div.row', { style: { gap: '4px' } },
				r.status === 'recording'
					? h('button.small.run-stop', { onclick: () => act('Stop run', () => post(`/api/sessions/${seg(id)}/runs/${seg(r.id)}/stop`)) }, 'Stop')
					: [exportButtons(id, r.id, null, `${s.label || s.use_case}-${r.label || fmt.shortId(r.id)}`),
						h('button.small.danger', {
							onclick: async () => {
								if (await confirmDialog(`Delete the run ${r.label || fmt.shortId(r.id)} and its ${fmt.num(r.frame_count)} frames?`))
									act('Delete run', () => del(`/api/sessions/${seg(id)}/runs/${seg(r.id)}`));
							},
						}, 'Delete')]) },
		], runs));
	}

	function frames(r) {
		return r.status === 'recording' && liveCount.has(r.id) ? Math.max(r.frame_count || 0, liveCount.get(r.id)) : r.frame_count;
	}

	function renderAnalysisPart() {
		const a = s.analysis;
		const key = JSON.stringify([s.status, a && (a.status || 'done'), a && a.job_id, s.completed_at]);
		if (key === analysisKey) return;
		analysisKey = key;
		if (analysisCleanup) analysisCleanup();
		analysisCleanup = null;
		if (s.status !== 'completed' && !a) {
			put(analysisEl, h('p.muted', 'Complete the session to analyse its runs.'));
			return;
		}
		if (!a || a.status === 'pending') {
			put(analysisEl, h('p#analysis-pending', pill('pending'), ' Analysing… the result appears here when a worker has it.'));
			return;
		}
		if (a.status === 'failed') {
			const e = a.error || {};
			put(analysisEl, h('p#analysis-failed', pill('failed'), ` ${e.message || 'the analysis failed'} (${e.code || '?'})`));
			return;
		}
		put(analysisEl, h('p.muted', 'Loading the analysis…'));
		get(`/api/sessions/${seg(id)}/analysis`).then((full) => {
			if (!alive) return;
			put(analysisEl);
			analysisCleanup = renderAnalysis(analysisEl, s, full);
		}).catch((err) => put(analysisEl, h('p.bad', `Cannot read the analysis: ${errText(err)}`)));
	}

	// a recording run's frames: the feed's newest seq since the run's start marker
	const onTelemetry = (e) => {
		if (!s) return;
		const frames = e.detail.frames || {};
		for (const r of s.runs || []) {
			const f = frames[r.feed_name];
			if (r.status !== 'recording' || !f || typeof r.start_marker !== 'number') continue;
			const n = Math.max(0, f.seq + 1 - r.start_marker);
			liveCount.set(r.id, n);
			const cell = runsEl.querySelector(`.run-frames[data-run="${r.id}"]`);
			if (cell) cell.textContent = fmt.num(Math.max(r.frame_count || 0, n));
		}
	};
	const reload = debounce(load, 100);
	const onEvent = (e) => {
		const { type, data } = e.detail;
		if (!EVENTS.includes(type)) return;
		if (type === 'session.deleted' && data.session_id === id) {
			toast('This session was deleted');
			ctx.navigate('#/sessions');
			return;
		}
		if (data.session_id === id || (type === 'lap_completed' && s && (s.runs || []).some((r) => r.status === 'recording' && r.feed_name === data.feed)))
			reload();
	};
	stream.addEventListener('telemetry', onTelemetry);
	stream.addEventListener('event', onEvent);
	const onHello = () => s && renderStart();
	stream.addEventListener('hello', onHello);
	load();
	return () => {
		alive = false;
		if (release) release();
		if (analysisCleanup) analysisCleanup();
		stream.removeEventListener('telemetry', onTelemetry);
		stream.removeEventListener('event', onEvent);
		stream.removeEventListener('hello', onHello);
	};
}
