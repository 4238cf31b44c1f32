// views/recordings.js - raw-packet recordings: start (name, notes, use case), stop, the list with
// each feed's packets, pcap downloads (they open in Wireshark), delete with confirmation.
// recording.* events from the stream refresh the list; an active recording's packet counts are
// read again every 2 s while it runs (the stream carries no packet counts).
import { get, post, del, seg, download, ApiError } from '../api.js';
import { h, put, table, pill, toast, confirmDialog, debounce } from '../dom.js';
import * as fmt from '../fmt.js';

const err = (e) => (e instanceof ApiError ? `${e.message} (${e.status})` : String(e.message || e));

export function mount(el, ctx) {
	const { stream } = ctx;
	let alive = true;
	let timer = 0;
	const name = h('input#rec-name', { placeholder: 'name (optional)', maxlength: 200 });
	const notes = h('input#rec-notes', { placeholder: 'notes (optional)', maxlength: 1000, style: { flex: 1 } });
	const startBtn = h('button.primary#rec-start', { type: 'submit' }, 'Start recording');
	const listEl = h('div', h('p.muted', 'Loading…'));
	put(el, h('h1', 'Recordings'),
		h('section.card', h('h2', 'Record every feed\'s raw packets'),
			h('p.muted', 'A recording keeps the packets exactly as the games sent them (pcap with IPv4/UDP headers), ' +
				'for replay with pw-replay or a look in Wireshark. One recording runs at a time.'),
			h('form.row', { onsubmit: start }, name, notes, startBtn)),
		h('section.card', { style: { marginTop: '12px' } }, h('h2', 'All recordings'), listEl));

	async function start(e) {
		e.preventDefault();
		startBtn.disabled = true;
		try {
			const body = {};
			if (name.value.trim()) body.name = name.value.trim();
			if (notes.value.trim()) body.notes = notes.value.trim();
			await post('/api/recordings', body);
			name.value = notes.value = '';
		} catch (x) {
			toast(`Cannot start the recording: ${err(x)}`, 'error');
		} finally {
			startBtn.disabled = false;
		}
		load();
	}

	async function load() {
		clearTimeout(timer);
		let recs;
		try {
			recs = await get('/api/recordings');
		} catch (x) {
			put(listEl, h('p.bad', `Cannot read the recordings: ${err(x)}`));
			return;
		}
		if (!alive) return;
		recs = (recs || []).slice().sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
		const active = recs.some((r) => r.status === 'active');
		startBtn.disabled = active;
		startBtn.title = active ? 'a recording is running: stop it first' : '';
		if (active) timer = setTimeout(load, 2000);
		if (!recs.length) {
			put(listEl, h('p.empty', 'No recordings yet.'));
			return;
		}
		put(listEl, table([
			{ label: 'name', get: (r) => r.name || h('span.muted', fmt.shortId(r.id)) },
			{ label: 'status', get: (r) => pill(r.status, r.status === 'active' ? 'recording' : r.status) },
			{ label: 'game / track / car', get: (r) => [r.game, r.track, r.car].filter(Boolean).join(' · ') || '—' },
			{ label: 'started', get: (r) => fmt.when(r.started_at) },
			{ label: 'stopped', get: (r) => fmt.when(r.stopped_at) },
			{ label: 'feeds (packets)', get: (r) => (r.feeds || []).map((f) => h('div', h('button.small', {
				title: `${f.feed}.pcap, ${fmt.bytes(f.bytes)}`,
				disabled: r.status === 'active',
				onclick: () => download(`/api/recordings/${seg(r.id)}/data/${seg(f.feed)}`, `${r.name || r.id}-${f.feed}.pcap`)
					.catch((x) => toast(`Download: ${err(x)}`, 'error')),
			}, `${f.feed}.pcap`), ` ${fmt.num(f.packets)}${f.packets_lost ? ` (${fmt.num(f.packets_lost)} lost)` : ''}`)) },
			{ label: 'notes', get: (r) => r.notes || '' },
			{ label: '', get: (r) => (r.status === 'active'
				? h('button.small#rec-stop', { onclick: () => act(() => post(`/api/recordings/${seg(r.id)}/stop`)) }, 'Stop')
				: h('button.small.danger', {
					onclick: async () => {
						if (await confirmDialog(`Delete the recording "${r.name || r.id}" and its pcap files?`))
							act(() => del(`/api/recordings/${seg(r.id)}`));
					},
				}, 'Delete')) },
		], recs));
	}

	async function act(fn) {
		try {
			await fn();
		} catch (x) {
			toast(err(x), 'error');
		}
		load();
	}

	const reload = debounce(load, 100);
	const onEvent = (e) => {
		if (e.detail.type.startsWith('recording.')) reload();
	};
	stream.addEventListener('event', onEvent);
	load();
	return () => {
		alive = false;
		clearTimeout(timer);
		stream.removeEventListener('event', onEvent);
	};
}
