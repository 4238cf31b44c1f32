// trackmap.js - a track map on a canvas: the model (centre line, boundaries, numbered corners,
// sectors) or driven laps as traces (one colour, or coloured by a value), dots for cars and
// cursors. World x to the right, world z up. The finished map is kept in an off-screen canvas and
// only the dots are drawn on top of it, so moving a dot 60 times a second is cheap.

const SECTOR_COLORS = ['#5fb3ff', '#f2b84b', '#b48cff', '#4cd07d', '#ff9f43', '#53e0d6'];

export class TrackMap {
	constructor(canvas, opts = {}) {
		this.canvas = canvas;
		this.maxHeight = opts.maxHeight || 420;
		// grow (a fraction, e.g. 0.5): a map drawn from a lap still being driven keeps its scale
		// while the traces stay inside it; when they leave it, it is scaled to their extent plus
		// grow times it on each side, so it is scaled again a few times a lap, not with every point
		this.grow = opts.grow || 0;
		this.model = null;
		this.traces = [];
		this.dots = [];
		this.highlight = null; // {trace, from, to}: indices of traces[trace] drawn bright
		this.base = document.createElement('canvas');
		this.dirty = true;
		this.bounds = null;
		this.width = 0; // the canvas's CSS width, from the ResizeObserver (no layout read per draw)
		this.ro = new ResizeObserver((entries) => {
			this.width = entries[entries.length - 1].contentRect.width;
			this.dirty = true;
			this.draw();
		});
		this.ro.observe(canvas);
	}

	dispose() {
		this.ro.disconnect();
	}

	// model: a TrackModel of the API (center_line, left_boundary, right_boundary, corners, sectors,
	// sample_spacing_m) or null.
	setModel(model) {
		this.model = model;
		this.dirty = true;
		this.bounds = null;
	}

	// traces: [{points: [[x, z], ...], color, width, values?, range?: [lo, hi], palette?}]
	setTraces(traces) {
		this.traces = traces || [];
		this.dirty = true;
		if (!this.grow || this.model || !this.bounds) this.bounds = null;
		else {
			const b = this.computeBounds(true), o = this.bounds;
			if (!b || b.x0 < o.x0 || b.x1 > o.x1 || b.z0 < o.z0 || b.z1 > o.z1) this.bounds = null;
		}
	}

	setHighlight(h) {
		this.highlight = h;
		this.dirty = true;
	}

	// dots: [{x, z, color, r}]; drawn on the next draw().
	setDots(dots) {
		this.dots = dots || [];
	}

	// CSS pixels within the canvas of world point (x, z), or null before the first layout: for a
	// DOM element moved over the map (cheaper than redrawing the canvas for a moving dot).
	project(x, z) {
		if (this.dirty) this.drawBase();
		if (!this.bounds || !this.tx) return null;
		return { left: this.tx(x) / this.dpr, top: this.tz(z) / this.dpr };
	}

	hasContent() {
		return !!(this.model || this.traces.some((t) => t.points && t.points.length > 1));
	}

	// The world rectangle the map shows (raw: the content's own, without the growing margin).
	computeBounds(raw = false) {
		let x0 = Infinity, x1 = -Infinity, z0 = Infinity, z1 = -Infinity;
		const eat = (pts) => {
			for (const p of pts || []) {
				if (!p) continue;
				if (p[0] < x0) x0 = p[0];
				if (p[0] > x1) x1 = p[0];
				if (p[1] < z0) z0 = p[1];
				if (p[1] > z1) z1 = p[1];
			}
		};
		if (this.model) {
			eat(this.model.left_boundary);
			eat(this.model.right_boundary);
			eat(this.model.center_line);
		}
		for (const t of this.traces) eat(t.points);
		if (!Number.isFinite(x0)) return null;
		if (this.grow && !this.model && !raw) {
			const e = Math.max(x1 - x0, z1 - z0, 100) * this.grow;
			return { x0: x0 - e, x1: x1 + e, z0: z0 - e, z1: z1 + e };
		}
		return { x0, x1, z0, z1 };
	}

	layout() {
		const dpr = window.devicePixelRatio || 1;
		const w = Math.max(100, this.width || this.canvas.clientWidth);
		if (!this.bounds) this.bounds = this.computeBounds();
		const b = this.bounds;
		let hgt = Math.min(this.maxHeight, w * 0.62);
		if (b) {
			const aspect = (b.z1 - b.z0 + 1) / (b.x1 - b.x0 + 1);
			hgt = Math.max(160, Math.min(this.maxHeight, w * aspect + 24));
		}
		this.cssW = w;
		this.cssH = Math.round(hgt);
		// a canvas given its size again is cleared and allocated again: only when it changes
		const W = Math.round(w * dpr), H = Math.round(this.cssH * dpr);
		if (this.canvas.width !== W || this.canvas.height !== H) {
			this.canvas.width = W;
			this.canvas.height = H;
			this.canvas.style.height = `${this.cssH}px`;
		}
		if (this.base.width !== W || this.base.height !== H) {
			this.base.width = W;
			this.base.height = H;
		}
		this.dpr = dpr;
		if (b) {
			const pad = 14 * dpr;
			const sx = (this.canvas.width - 2 * pad) / Math.max(1, b.x1 - b.x0);
			const sz = (this.canvas.height - 2 * pad) / Math.max(1, b.z1 - b.z0);
			const s = Math.min(sx, sz);
			const ox = (this.canvas.width - s * (b.x1 - b.x0)) / 2;
			const oz = (this.canvas.height - s * (b.z1 - b.z0)) / 2;
			this.tx = (x) => ox + (x - b.x0) * s;
			this.tz = (z) => this.canvas.height - (oz + (z - b.z0) * s);
		}
	}

	path(ctx, pts, from = 0, to = pts.length - 1, close = false) {
		ctx.beginPath();
		let started = false;
		for (let i = from; i <= to; i++) {
			const p = pts[i];
			if (!p) {
				started = false;
				continue;
			}
			if (!started) ctx.moveTo(this.tx(p[0]), this.tz(p[1]));
			else ctx.lineTo(this.tx(p[0]), this.tz(p[1]));
			started = true;
		}
		if (close) ctx.closePath();
	}

	drawBase() {
		this.layout();
		const ctx = this.base.getContext('2d');
		const dpr = this.dpr;
		ctx.clearRect(0, 0, this.base.width, this.base.height);
		if (!this.bounds) {
			this.dirty = false;
			return;
		}
		const m = this.model;
		ctx.lineJoin = 'round';
		ctx.lineCap = 'round';
		if (m && m.left_boundary && m.right_boundary) {
			// the tarmac between the boundaries
			ctx.fillStyle = '#1d232b';
			ctx.beginPath();
			const L = m.left_boundary, R = m.right_boundary;
			L.forEach((p, i) => (i ? ctx.lineTo(this.tx(p[0]), this.tz(p[1])) : ctx.moveTo(this.tx(p[0]), this.tz(p[1]))));
			ctx.closePath();
			for (let i = R.length - 1; i >= 0; i--) {
				const p = R[i];
				if (i === R.length - 1) ctx.moveTo(this.tx(p[0]), this.tz(p[1]));
				else ctx.lineTo(this.tx(p[0]), this.tz(p[1]));
			}
			ctx.closePath();
			ctx.fill('evenodd');
			ctx.strokeStyle = '#56606d';
			ctx.lineWidth = 1.2 * dpr;
			this.path(ctx, L, 0, L.length - 1, true);
			ctx.stroke();
			this.path(ctx, R, 0, R.length - 1, true);
			ctx.stroke();
		}
		if (m && m.center_line) {
			const C = m.center_line;
			const sp = m.sample_spacing_m || 1;
			const sectors = m.sectors || [];
			if (sectors.length && !this.traces.length) {
				sectors.forEach((s, k) => {
					const a = Math.max(0, Math.floor(s.start_dist_m / sp));
					const b = Math.min(C.length - 1, Math.ceil(s.end_dist_m / sp));
					ctx.strokeStyle = SECTOR_COLORS[k % SECTOR_COLORS.length];
					ctx.lineWidth = 2.5 * dpr;
					this.path(ctx, C, a, b);
					ctx.stroke();
				});
			} else {
				ctx.strokeStyle = this.traces.length ? '#3a434f' : '#8b95a3';
				ctx.setLineDash([4 * dpr, 4 * dpr]);
				ctx.lineWidth = 1 * dpr;
				this.path(ctx, C, 0, C.length - 1, true);
				ctx.stroke();
				ctx.setLineDash([]);
			}
			// start/finish line
			if (C.length > 2) {
				ctx.fillStyle = '#ffffff';
				ctx.beginPath();
				ctx.arc(this.tx(C[0][0]), this.tz(C[0][1]), 3.5 * dpr, 0, 2 * Math.PI);
				ctx.fill();
			}
		}
		this.drawTraces(ctx);
		if (m && m.corners) {
			ctx.font = `${11 * dpr}px system-ui, "DejaVu Sans", sans-serif`;
			ctx.textAlign = 'center';
			ctx.textBaseline = 'middle';
			for (const c of m.corners) {
				let p = c.apex;
				if (!p && m.center_line && m.sample_spacing_m)
					p = m.center_line[Math.min(m.center_line.length - 1, Math.round(c.apex_dist_m / m.sample_spacing_m))];
				if (!p) continue;
				const x = this.tx(p[0]), y = this.tz(p[1]);
				ctx.fillStyle = c.direction === 'left' ? '#3b6fa0' : '#a0603b';
				ctx.beginPath();
				ctx.arc(x, y, 9 * dpr, 0, 2 * Math.PI);
				ctx.fill();
				ctx.fillStyle = '#fff';
				ctx.fillText(`${c.index}${c.direction === 'left' ? 'L' : 'R'}`, x, y + 0.5 * dpr);
			}
		}
		this.dirty = false;
	}

	drawTraces(ctx) {
		const dpr = this.dpr;
		this.traces.forEach((t, ti) => {
			const pts = t.points || [];
			if (pts.length < 2) return;
			ctx.lineWidth = (t.width || 2) * dpr;
			const hl = this.highlight && this.highlight.trace === ti ? this.highlight : null;
			if (t.values && t.range) {
				// one path per colour step (32 steps, dimmed outside the highlight): a few dozen
				// strokes for a lap of thousands of points
				const [lo, hi] = t.range;
				const pal = t.palette || heat;
				const STEPS = 32;
				const paths = new Map();
				for (let i = 1; i < pts.length; i++) {
					const a = pts[i - 1], b = pts[i];
					const v = t.values[i];
					if (!a || !b || v === null || v === undefined) continue;
					const q = Math.round(Math.max(0, Math.min(1, (v - lo) / (hi - lo || 1))) * (STEPS - 1));
					const dim = hl && (i < hl.from || i > hl.to) ? 1 : 0;
					const k = q * 2 + dim;
					let p = paths.get(k);
					if (!p) paths.set(k, (p = new Path2D()));
					p.moveTo(this.tx(a[0]), this.tz(a[1]));
					p.lineTo(this.tx(b[0]), this.tz(b[1]));
				}
				for (const [k, p] of paths) {
					ctx.strokeStyle = pal((k >> 1) / (STEPS - 1));
					ctx.globalAlpha = k & 1 ? 0.25 : 1;
					ctx.stroke(p);
				}
				ctx.globalAlpha = 1;
			} else {
				ctx.strokeStyle = t.color || '#5fb3ff';
				if (hl) {
					ctx.globalAlpha = 0.25;
					this.path(ctx, pts);
					ctx.stroke();
					ctx.globalAlpha = 1;
					ctx.lineWidth = (t.width || 2) * 1.8 * dpr;
					this.path(ctx, pts, Math.max(0, hl.from), Math.min(pts.length - 1, hl.to));
					ctx.stroke();
				} else {
					this.path(ctx, pts);
					ctx.stroke();
				}
			}
		});
	}

	// Trace ti grew at its end (a lap being driven): its points from index `from` on are drawn
	// onto the kept map and the canvas as they are, nothing else is redrawn. False (nothing
	// drawn) when the map must be drawn anew: not drawn yet, a new point out of its scale, dots on it.
	extendTrace(ti, from) {
		const t = this.traces[ti];
		if (this.dirty || !this.bounds || !this.tx || this.dots.length || !t || t.values || from < 1) return false;
		const pts = t.points, b = this.bounds;
		for (let i = from; i < pts.length; i++) {
			const p = pts[i];
			if (p && (p[0] < b.x0 || p[0] > b.x1 || p[1] < b.z0 || p[1] > b.z1)) return false;
		}
		for (const ctx of [this.base.getContext('2d'), this.canvas.getContext('2d')]) {
			ctx.lineJoin = 'round';
			ctx.lineCap = 'round';
			ctx.strokeStyle = t.color || '#5fb3ff';
			ctx.lineWidth = (t.width || 2) * this.dpr;
			this.path(ctx, pts, from - 1, pts.length - 1);
			ctx.stroke();
		}
		return true;
	}

	// Draw: the kept map, then the dots.
	draw() {
		if (this.dirty) this.drawBase();
		const ctx = this.canvas.getContext('2d');
		ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
		ctx.drawImage(this.base, 0, 0);
		if (!this.bounds) return;
		for (const d of this.dots) {
			if (d.x === undefined || d.x === null) continue;
			ctx.fillStyle = d.color || '#ff5f5f';
			ctx.strokeStyle = '#000';
			ctx.lineWidth = 1.5 * this.dpr;
			ctx.beginPath();
			ctx.arc(this.tx(d.x), this.tz(d.z), (d.r || 6) * this.dpr, 0, 2 * Math.PI);
			ctx.fill();
			ctx.stroke();
		}
	}
}

// 0..1 -> blue, green, yellow, red.
export function heat(f) {
	const stops = [[0, 59, 111, 224], [0.35, 76, 208, 125], [0.7, 242, 184, 75], [1, 255, 80, 80]];
	let i = 1;
	while (i < stops.length - 1 && f > stops[i][0]) i++;
	const a = stops[i - 1], b = stops[i];
	const t = (f - a[0]) / (b[0] - a[0] || 1);
	const c = (k) => Math.round(a[k] + (b[k] - a[k]) * Math.max(0, Math.min(1, t)));
	return `rgb(${c(1)},${c(2)},${c(3)})`;
}

// Red for time lost, green for time gained, grey near zero: f in -1..1.
export function diverging(f) {
	const t = Math.max(0, Math.min(1, f));
	const r = Math.round(76 + (255 - 76) * t), g = Math.round(208 - (208 - 80) * t), bl = Math.round(125 - 45 * t);
	return `rgb(${r},${g},${bl})`;
}
