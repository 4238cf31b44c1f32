// app.js - the dashboard's shell: hash routes to views, the store and stream indicators, the
// "store unavailable" banner. A view module exports mount(el, ctx) returning its cleanup.
import { health, watchHealth, get } from './api.js';
import { stream } from './stream.js';
import { h, put } from './dom.js';

const views = {
	live: () => import('./views/live.js'),
	sessions: () => import('./views/sessions.js'),
	laps: () => import('./views/laps.js'),
	compare: () => import('./views/compare.js'),
	recordings: () => import('./views/recordings.js'),
	tracks: () => import('./views/tracks.js'),
	cars: () => import('./views/cars.js'),
};

const main = document.getElementById('view');
let current = null; // {name, cleanup}
let seq = 0;

function parseHash() {
	const raw = location.hash.replace(/^#\/?/, '');
	const [path, q] = raw.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	const name = parts.shift() || 'live';
	return { name, parts, query: new URLSearchParams(q || '') };
}

async function route() {
	const r = parseHash();
	const my = ++seq;
	if (current && current.cleanup) {
		try {
			current.cleanup();
		} catch (e) {
			console.warn('view cleanup', e);
		}
	}
	current = null;
	for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('on', a.dataset.view === r.name);
	if (!views[r.name]) {
		put(main, h('div.card', h('h1', 'Not here'), h('p', 'No such view. ', h('a', { href: '#/live' }, 'Live'))));
		return;
	}
	const mod = await views[r.name]();
	if (my !== seq) return;
	put(main);
	document.title = `pitwall · ${r.name}`;
	const cleanup = mod.mount(main, { ...r, stream, navigate });
	current = { name: r.name, cleanup };
}

export function navigate(hash) {
	if (location.hash === hash) route();
	else location.hash = hash;
}

function showStore(up) {
	const pill = document.getElementById('store-status');
	pill.className = `pill ${up ? 'up' : 'down'}`;
	pill.textContent = up ? 'store up' : 'store unavailable';
	const b = document.getElementById('banner');
	b.hidden = !!up;
	if (!up)
		b.textContent = 'Store unavailable: pw-store does not answer. Sessions, runs and analyses cannot be read or ' +
			'changed until it is back; live telemetry goes on. This page recovers by itself.';
}

function showStream(state) {
	const pill = document.getElementById('stream-status');
	pill.className = `pill ${state === 'open' ? 'up' : state === 'connecting' ? 'stale' : 'down'}`;
	pill.textContent = state === 'open' ? 'stream live' : state === 'connecting' ? 'stream connecting' : 'stream down';
}

health.addEventListener('store', (e) => {
	showStore(e.detail.up);
	// the store is back: the view reads what it shows again (live data never stopped)
	if (e.detail.up && e.detail.was === false && current && current.name !== 'live') route();
});
stream.addEventListener('state', (e) => showStream(e.detail));
window.addEventListener('hashchange', route);
showStream(stream.state);
route();
watchHealth();
// the stream after the first answer: with a token configured, the page has it by then (a
// WebSocket refused for want of it is an error the page could not even read)
get('/api/health').catch(() => null).then(() => stream.start());
