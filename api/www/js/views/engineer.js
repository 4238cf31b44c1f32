// views/engineer.js - one finding of the race engineer (docs/analysis-recommendations.md), in a
// session's analysis and live on the lap just driven.
import { h, pill } from '../dom.js';

// One finding: what was seen, why, what to change.
export function finding(r) {
	const adj = r.adjustment || {};
	return h('div.guidance.finding', { style: { marginBottom: '8px' } },
		h('div.row', { style: { gap: '6px' } }, h('b', r.title || r.rule || 'finding'),
			r.category ? pill(r.category, 'stopped') : null,
			r.confidence ? pill(`${r.confidence} confidence`, r.confidence === 'high' ? 'ok' : r.confidence === 'medium' ? 'warn' : 'stopped') : null,
			r.lap_number ? h('span.muted', `lap ${r.lap_number}`) : null),
		r.detected ? h('div', r.detected) : null,
		r.cause ? h('div.muted', r.cause) : null,
		adj.summary ? h('div', h('b', 'Change: '), adj.summary, r.expected_outcome ? h('span.muted', ` → ${r.expected_outcome}`) : null) : null,
		(r.caveats || []).length ? h('div.muted.caveats', { style: { fontSize: '12px' } }, r.caveats.map((c) => (/[.!?]$/.test(c) ? c : `${c}.`)).join(' ')) : null);
}
