// views/tracks.js - #/tracks: the stored track models; #/tracks/GAME/TRACK: one drawn on its map
// (boundaries, sectors, numbered corners with their direction), its curvature and corner table.
import { get, del, seg, ApiError } from '../api.js';
import { h, put, table, toast, confirmDialog, debounce } from '../dom.js';
import * as fmt from '../fmt.js';
import { trackModel } from './analysis.js';
import { dispose } from '../plot.js';

const err = (e) => (e instanceof ApiError ? `${e.message} (${e.status})` : String(e.message || e));

export function mount(el, ctx) {
	const { stream } = ctx;
	let alive = true;
	let cleanup = null;
	const [game, track] = ctx.parts;

	async function load() {
		if (cleanup) cleanup();
		cleanup = null;
		let tracks;
		try {
			tracks = await get('/api/tracks');
		} catch (x) {
			put(el, h('h1', 'Tracks'), h('p.bad', `Cannot read the tracks: ${err(x)}`));
			return;
		}
		if (!alive) return;
		const list = h('section.card', h('h2', 'Track models'), (tracks || []).length ? table([
			{ label: 'track', get: (t) => h('a', { href: `#/tracks/${seg(t.game)}/${seg(t.track_name)}` }, t.track_name) },
			{ label: 'game', get: (t) => t.game },
			{ label: 'corners', num: true, get: (t) => fmt.num(t.corner_count) },
			{ label: 'source', get: (t) => t.source },
			{ label: 'built', get: (t) => fmt.when(t.created_at) },
		], tracks, { rowClass: (t) => (t.game === game && t.track_name === track ? 'sel' : ''), onrow: (t, e) => { if (e.target.tagName !== 'A') ctx.navigate(`#/tracks/${seg(t.game)}/${seg(t.track_name)}`); } })
			: h('p.empty', 'No track models yet. Create a track_mapping session, drive one run along the left edge (label it "left") and one along the right ("right"), complete it and save the model.'));
		put(el, h('h1', 'Tracks'), list);
		if (!game || !track) return;
		const t = (tracks || []).find((x) => x.game === game && x.track_name === track);
		const card = h('section.card#track-detail', { style: { marginTop: '12px' } });
		el.append(card);
		if (!t) {
			put(card, h('p.muted', `No model of ${track} (${game}).`));
			return;
		}
		try {
			const m = await get(`/api/tracks/${seg(game)}/${seg(track)}`);
			if (!alive) return;
			const charts = [], maps = [];
			put(card, h('div.row.between', h('h2', `${m.track_name} (${m.game})`),
				h('button.danger.small', {
					onclick: async () => {
						if (!(await confirmDialog(`Delete the track model of ${m.track_name}? Live maps and per-corner times need it.`))) return;
						try {
							await del(`/api/tracks/${seg(game)}/${seg(track)}`);
							ctx.navigate('#/tracks');
						} catch (x) {
							toast(`Delete: ${err(x)}`, 'error');
						}
					},
				}, 'Delete')));
			trackModel(card, m, { charts, maps, session: null }, false);
			cleanup = () => {
				charts.forEach(dispose);
				maps.forEach((x) => x.dispose());
			};
		} catch (x) {
			put(card, h('p.bad', `Cannot read the model: ${err(x)}`));
		}
	}

	const reload = debounce(load, 150);
	const onEvent = (e) => {
		if (e.detail.type.startsWith('track.')) reload();
	};
	stream.addEventListener('event', onEvent);
	load();
	return () => {
		alive = false;
		if (cleanup) cleanup();
		stream.removeEventListener('event', onEvent);
	};
}
