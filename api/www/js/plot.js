// plot.js - uPlot (npm "uplot", copied into vendor/ by make) in the dashboard's dark theme:
// charts that follow their container's width, lap colours, cursor sync keys.
import uPlot from '../vendor/uPlot.esm.js';

export { uPlot };

// One colour per picked lap (the reference first); the same in tables, charts and the map.
export const LAP_COLORS = ['#5fb3ff', '#ff9f43', '#4cd07d', '#e85ff2', '#f2e24b', '#53e0d6'];
export const GEAR_COLORS = ['#5fb3ff', '#ff9f43', '#4cd07d', '#e85ff2', '#f2e24b', '#53e0d6', '#ff5f5f',
	'#b48cff', '#9bd34c', '#ff8fb3'];

const AXIS = {
	stroke: '#8b95a3',
	grid: { stroke: '#222831', width: 1 },
	ticks: { stroke: '#2a313b', width: 1, size: 4 },
	font: '11px system-ui, "DejaVu Sans", sans-serif',
	labelFont: '12px system-ui, "DejaVu Sans", sans-serif',
};

// x and y axes with labels (units in the label, as the API names them).
export function axes(xLabel, yLabel, y = {}) {
	return [
		{ ...AXIS, label: xLabel, labelSize: xLabel ? 18 : 0, size: xLabel ? 36 : 24 },
		{ ...AXIS, label: yLabel, labelSize: yLabel ? 18 : 0, size: 52, ...y },
	];
}

export function series(label, color, more = {}) {
	return { label, stroke: color, width: 1.5, points: { show: false }, ...more };
}

// A uPlot in el, as wide as el (followed on resize), height px high. Returns the uPlot; call
// dispose(u) to remove it.
export function chart(el, opts, data) {
	const width = Math.max(200, el.clientWidth || 600);
	const u = new uPlot({ width, height: opts.height || 220, legend: { live: true }, ...opts }, data, el);
	let last = width;
	const ro = new ResizeObserver(() => {
		const w = Math.max(200, el.clientWidth);
		if (Math.abs(w - last) >= 2) {
			last = w;
			u.setSize({ width: w, height: u.height });
		}
	});
	ro.observe(el);
	u._ro = ro;
	return u;
}

export function dispose(u) {
	if (!u) return;
	if (u._ro) u._ro.disconnect();
	u.destroy();
}

// Scatter series for uPlot's mode 2 (data [null, [xs, ys], ...]): filled dots, no lines.
export function scatterSeries(label, color, size = 3) {
	return { label, stroke: color, fill: color, paths: dots(size), points: { show: false } };
}

function dots(size) {
	return (u, si) => {
		uPlot.orient(u, si, (series, dataX, dataY, scaleX, scaleY, valToPosX, valToPosY, xOff, yOff, xDim, yDim, moveTo, lineTo, rect, arc) => {
			const d = u.data[si];
			const r = (size * devicePixelRatio) / 2;
			const p = new Path2D();
			for (let i = 0; i < d[0].length; i++) {
				const x = d[0][i], y = d[1][i];
				if (x === null || y === null || x < scaleX.min || x > scaleX.max || y < scaleY.min || y > scaleY.max) continue;
				const cx = valToPosX(x, scaleX, xDim, xOff), cy = valToPosY(y, scaleY, yDim, yOff);
				p.moveTo(cx + r, cy);
				arc(p, cx, cy, r, 0, 2 * Math.PI);
			}
			u.ctx.fillStyle = series.fill ? series.fill() : series.stroke();
			u.ctx.fill(p);
		});
		return null;
	};
}

// A vertical marker line at x (data units) in color, drawn after the series.
export function markerHook(marks) {
	return (u) => {
		const ctx = u.ctx;
		ctx.save();
		let k = 0;
		for (const m of marks()) {
			if (m.x === null || m.x === undefined || !Number.isFinite(m.x)) continue;
			const px = Math.round(u.valToPos(m.x, 'x', true));
			if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) continue;
			ctx.strokeStyle = m.color || '#fff';
			ctx.setLineDash(m.dash || [4, 3]);
			ctx.lineWidth = 1.5 * devicePixelRatio;
			ctx.beginPath();
			ctx.moveTo(px, u.bbox.top);
			ctx.lineTo(px, u.bbox.top + u.bbox.height);
			ctx.stroke();
			if (m.label) {
				ctx.setLineDash([]);
				ctx.fillStyle = m.color || '#fff';
				ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
				ctx.textAlign = 'left'; // uPlot leaves its axes' alignment (right) in the context
				ctx.textBaseline = 'alphabetic';
				// labels of neighbouring marks on steps down, so they do not overlap
				ctx.fillText(m.label, px + 3 * devicePixelRatio, u.bbox.top + (12 + 13 * (k++ % 4)) * devicePixelRatio);
			}
		}
		ctx.restore();
	};
}
