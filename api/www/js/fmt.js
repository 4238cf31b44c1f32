// fmt.js - numbers, times and names as the API gives them (units in the labels, never converted).

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

// Lap time from ms as m:ss.mmm ("—" when unknown: null, negative, not a number).
export function lapTime(ms) {
	if (!isNum(ms) || ms < 0) return '—';
	const t = Math.round(ms);
	const m = Math.floor(t / 60000);
	const s = Math.floor((t % 60000) / 1000);
	return `${m}:${String(s).padStart(2, '0')}.${String(t % 1000).padStart(3, '0')}`;
}

// A delta in seconds with its sign, "+0.123" / "-1.042".
export function delta(s, digits = 3) {
	if (!isNum(s)) return '—';
	return (s >= 0 ? '+' : '−') + Math.abs(s).toFixed(digits);
}

// One formatter per number of digits: toLocaleString with options builds one a call (the live view
// formats dozens of numbers a second).
const formats = [];
export function num(v, digits = 0) {
	if (!isNum(v)) return '—';
	const f = formats[digits] || (formats[digits] = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
	return f.format(v);
}

export function pct(v) {
	return isNum(v) ? `${Math.round(v * 100)} %` : '—';
}

export function gear(g) {
	if (!isNum(g)) return '—';
	return g < 0 ? 'R' : g === 0 ? 'N' : String(g);
}

// An ISO time from the API as local date and time.
export function when(iso) {
	if (!iso) return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return String(iso);
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function bytes(n) {
	if (!isNum(n)) return '—';
	if (n < 1024) return `${n} B`;
	if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
	return `${(n / 1048576).toFixed(1)} MiB`;
}

export function shortId(id) {
	return typeof id === 'string' ? id.slice(0, 8) : '—';
}

export { isNum };
