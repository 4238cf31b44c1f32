// api.js - the REST API (docs/api.md) from the page: JSON in and out, the typed error object as an
// ApiError, the bearer token asked for once when the API wants one (PITWALL_API_TOKEN) and sent
// with every request, and the store's health for the whole page.
import { h } from './dom.js';

const TOKEN_KEY = 'pitwall.token';
let token = localStorage.getItem(TOKEN_KEY) || '';
let asking = null;

// 'store' events (detail {up, was}: whether the store answers now and did before) for the
// banner and the views.
export const health = new EventTarget();
export let storeUp = null;

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

export function getToken() {
	return token;
}

export function authHeaders() {
	return token ? { Authorization: `Bearer ${token}` } : {};
}

// The token dialog: one at a time, whoever asks.
function askToken(wrong) {
	if (asking) return asking;
	asking = new Promise((resolve) => {
		const input = h('input#token-input', { type: 'password', autocomplete: 'current-password', required: true,
			placeholder: 'PITWALL_API_TOKEN', style: { width: '100%' } });
		const d = h('dialog#token-dialog', h('form', { method: 'dialog' },
			h('h2', 'This pitwall needs its API token'),
			h('p.muted', wrong ? 'That token was refused. ' : '',
				'pw-api was started with PITWALL_API_TOKEN: enter it once, it is kept in this browser.'),
			input,
			h('div.row', { style: { justifyContent: 'flex-end', marginTop: '10px' } },
				h('button.primary', { type: 'submit' }, 'Use this token'))));
		d.addEventListener('cancel', (e) => e.preventDefault());
		d.addEventListener('close', () => {
			token = input.value.trim();
			localStorage.setItem(TOKEN_KEY, token);
			d.remove();
			resolve();
		});
		document.body.append(d);
		d.showModal();
		input.focus();
	}).finally(() => {
		asking = null;
	});
	return asking;
}

function setStore(up) {
	if (up === storeUp) return;
	const was = storeUp;
	storeUp = up;
	health.dispatchEvent(new CustomEvent('store', { detail: { up, was } }));
}

// One request; resolves the parsed JSON (null for 204), rejects with ApiError.
export async function api(method, path, body) {
	for (let tries = 0; ; tries++) {
		const headers = { ...authHeaders() };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		if (res.status === 401) {
			await askToken(tries > 0 || token !== '');
			continue;
		}
		let data = null;
		if (res.status !== 204) {
			const text = await res.text();
			try {
				data = text ? JSON.parse(text) : null;
			} catch {
				data = text;
			}
		}
		if (res.status === 503) setStore(false);
		if (!res.ok) {
			const e = (data && data.error) || {};
			throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText);
		}
		return data;
	}
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const del = (path) => api('DELETE', path);

// A path segment: ids, names with spaces or slashes.
export const seg = (s) => encodeURIComponent(String(s));

// Save what path answers as filename. Without a token the browser downloads it itself
// (streamed to disk); with one the page fetches it with the header and hands over the bytes.
export async function download(path, filename) {
	let href = path;
	let url = null;
	if (token) {
		const res = await fetch(path, { headers: authHeaders() });
		if (!res.ok) {
			let e = {};
			try {
				e = (await res.json()).error || {};
			} catch { /* not JSON */ }
			throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText);
		}
		url = URL.createObjectURL(await res.blob());
		href = url;
	}
	const a = h('a', { href, download: filename || '' });
	document.body.append(a);
	a.click();
	a.remove();
	if (url) setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// /api/health every 2 s: it answers 200 whether or not the store does ({store: "up" | ...}),
// so watching it costs the browser no error; the page shows "store unavailable" and recovers.
export function watchHealth() {
	const tick = async () => {
		try {
			const r = await get('/api/health');
			setStore(r && r.store === 'up');
		} catch {
			setStore(false);
		}
		setTimeout(tick, 2000);
	};
	tick();
}
