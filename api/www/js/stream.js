// stream.js - the WebSocket stream /api/stream (docs/stream.md): one connection for the page,
// reconnected with backoff. Views say what telemetry they need (rate, feeds) and listen to the
// events; the stream subscribes to exactly that, so a page that shows no live data gets none.
import { getToken } from './api.js';

const SCHEMA = 1;

export class Stream extends EventTarget {
	constructor() {
		super();
		this.ws = null;
		this.state = 'connecting';
		this.hello = null;
		this.feeds = new Map(); // name -> {name, status, game, ...}: hello, then feed_status
		this.demands = new Set();
		this.retry = 0;
		this.received = 0;
		document.addEventListener('visibilitychange', () => this.apply());
	}

	start() {
		this.connect();
	}

	connect() {
		const proto = location.protocol === 'https:' ? 'wss' : 'ws';
		const tok = getToken();
		const url = `${proto}://${location.host}/api/stream${tok ? `?token=${encodeURIComponent(tok)}` : ''}`;
		const ws = new WebSocket(url, 'pitwall.v1');
		this.ws = ws;
		this.setState('connecting');
		ws.onopen = () => {
			this.retry = 0;
			this.setState('open');
		};
		ws.onmessage = (m) => this.onMessage(m.data);
		ws.onclose = () => {
			if (this.ws !== ws) return;
			this.ws = null;
			this.hello = null;
			this.setState('closed');
			const wait = Math.min(5000, 500 * 2 ** this.retry++);
			setTimeout(() => this.connect(), wait);
		};
	}

	setState(s) {
		this.state = s;
		this.dispatchEvent(new CustomEvent('state', { detail: s }));
	}

	send(type, data = {}) {
		if (this.ws && this.ws.readyState === WebSocket.OPEN)
			this.ws.send(JSON.stringify({ type, schema_version: SCHEMA, t_ms: Date.now(), data }));
	}

	onMessage(text) {
		let m;
		try {
			m = JSON.parse(text);
		} catch {
			return;
		}
		this.received++;
		const d = m.data || {};
		if (m.type === 'hello') {
			this.hello = d;
			this.feeds = new Map((d.feeds || []).map((f) => [f.name, { ...f }]));
			this.apply();
		} else if (m.type === 'feed_status') {
			const f = this.feeds.get(d.feed) || { name: d.feed };
			this.feeds.set(d.feed, { ...f, ...d, name: d.feed });
		} else if (m.type === 'error') {
			console.warn('stream:', d.code, d.message);
		}
		this.dispatchEvent(new CustomEvent(m.type, { detail: d }));
		if (m.type !== 'telemetry') this.dispatchEvent(new CustomEvent('event', { detail: { type: m.type, data: d } }));
	}

	// need({rate, feeds}) -> release(): telemetry at rate Hz (1..60) for feeds ([] = every feed).
	need(demand) {
		const d = { rate: demand.rate || 10, feeds: demand.feeds || [] };
		this.demands.add(d);
		this.apply();
		return () => {
			this.demands.delete(d);
			this.apply();
		};
	}

	// Subscribe to every event, plus telemetry when a visible view needs it.
	apply() {
		if (!this.hello) return;
		const all = (this.hello.events || []).filter((t) => t !== 'telemetry');
		const want = document.visibilityState !== 'hidden' && this.demands.size > 0;
		let rate = 1;
		let feeds = new Set();
		let every = false;
		for (const d of this.demands) {
			rate = Math.max(rate, d.rate);
			if (!d.feeds.length) every = true;
			d.feeds.forEach((f) => feeds.add(f));
		}
		const known = [...feeds].filter((f) => this.feeds.has(f));
		const on = want && (every || known.length > 0);
		const key = JSON.stringify([on, rate, every, known]);
		if (key === this.applied && this.appliedTo === this.ws) return;
		this.applied = key;
		this.appliedTo = this.ws;
		this.send('subscribe', { events: on ? [...all, 'telemetry'] : all, feeds: every || !on ? [] : known });
		if (on) this.send('set_rate', { hz: Math.max(1, Math.min(60, Math.round(rate))) });
	}
}

export const stream = new Stream();
