// views/cars.js - #/cars: the cars with characteristics (from their completed shift_points
// sessions); #/cars/NAME: per-gear rpm and speed ranges as a chart and a table, the recommended
// shift rpm.
import { get, seg, ApiError } from '../api.js';
import { h, put, table, debounce } from '../dom.js';
import * as fmt from '../fmt.js';
import { uPlot, chart, dispose, axes, GEAR_COLORS } from '../plot.js';

const err = (e) => (e instanceof ApiError ? `${e.message} (${e.status})` : String(e.message || e));

export function mount(el, ctx) {
	const { stream } = ctx;
	let alive = true;
	let u = null;
	const car = ctx.parts[0];

	async function load() {
		dispose(u);
		u = null;
		let cars;
		try {
			cars = await get('/api/characteristics/cars');
		} catch (x) {
			put(el, h('h1', 'Cars'), h('p.bad', `Cannot read the cars: ${err(x)}`));
			return;
		}
		if (!alive) return;
		put(el, h('h1', 'Cars'), h('section.card', h('h2', 'Car characteristics'),
			(cars || []).length ? table([
				{ label: 'car', get: (c) => h('a', { href: `#/cars/${seg(c.car_name)}` }, c.car_name) },
				{ label: 'shift_points sessions', num: true, get: (c) => fmt.num(c.session_count) },
				{ label: 'recommended shift', num: true, get: (c) => (c.recommended_shift_rpm ? `${fmt.num(c.recommended_shift_rpm)} rpm` : '—') },
			], cars, { rowClass: (c) => (c.car_name === car ? 'sel' : '') })
				: h('p.empty', 'No car characteristics yet: they come from completed shift_points sessions (full-throttle pulls through the gears).')));
		if (!car || !(cars || []).some((c) => c.car_name === car)) return;
		let d;
		try {
			d = await get(`/api/characteristics/cars/${seg(car)}`);
		} catch (x) {
			el.append(h('p.bad', `Cannot read ${car}: ${err(x)}`));
			return;
		}
		if (!alive) return;
		const gears = d.gears || [];
		const chartEl = h('div.chart#car-gears-chart');
		el.append(h('section.card#car-detail', { style: { marginTop: '12px' } },
			h('h2', d.car_name),
			h('p', 'Recommended shift: ', h('b', d.recommended_shift_rpm ? `${fmt.num(d.recommended_shift_rpm)} rpm` : '—'),
				h('span.muted', ` (mean of ${fmt.num(d.session_count)} shift_points sessions)`)),
			h('div.grid2',
				h('div', h('div.chart-title', 'rpm against speed in each gear (the range used)'), chartEl),
				table([
					{ label: 'gear', get: (g) => h('span', h('i.swatch', { style: { background: GEAR_COLORS[gears.indexOf(g) % GEAR_COLORS.length] } }), g.gear) },
					{ label: 'rpm', num: true, get: (g) => `${fmt.num(g.min_rpm)}–${fmt.num(g.max_rpm)}` },
					{ label: 'km/h', num: true, get: (g) => `${fmt.num(g.min_speed_kmh, 1)}–${fmt.num(g.max_speed_kmh, 1)}` },
				], gears))));
		// each gear a segment from (min speed, min rpm) to (max speed, max rpm)
		const data = uPlot.join(gears.map((g) => [[g.min_speed_kmh, g.max_speed_kmh], [g.min_rpm, g.max_rpm]]));
		const shift = d.recommended_shift_rpm;
		u = chart(chartEl, {
			height: 260,
			scales: { x: { time: false } },
			axes: axes('km/h', 'rpm'),
			series: [{ label: 'km/h' }, ...gears.map((g, i) => ({ label: `gear ${g.gear}`, stroke: GEAR_COLORS[i % GEAR_COLORS.length], width: 3, spanGaps: true, points: { show: true, size: 6 } }))],
			hooks: { draw: [(p) => {
				if (!shift) return;
				const y = Math.round(p.valToPos(shift, 'y', true));
				const c = p.ctx;
				c.save();
				c.strokeStyle = '#ff5f5f';
				c.setLineDash([5, 4]);
				c.lineWidth = 1.5 * devicePixelRatio;
				c.beginPath();
				c.moveTo(p.bbox.left, y);
				c.lineTo(p.bbox.left + p.bbox.width, y);
				c.stroke();
				c.fillStyle = '#ff5f5f';
				c.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
				c.textAlign = 'left'; // uPlot leaves its axes' alignment (right) in the context
				c.textBaseline = 'alphabetic';
				c.fillText(`shift ${fmt.num(shift)} rpm`, p.bbox.left + 6, y - 4 * devicePixelRatio);
				c.restore();
			}] },
		}, data);
	}

	const reload = debounce(load, 200);
	const onEvent = (e) => {
		if (e.detail.type === 'analysis.completed') reload();
	};
	stream.addEventListener('event', onEvent);
	load();
	return () => {
		alive = false;
		dispose(u);
		stream.removeEventListener('event', onEvent);
	};
}
