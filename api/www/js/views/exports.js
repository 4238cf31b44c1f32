// views/exports.js - export buttons for a lap or a whole run (GET .../export, docs/api.md):
// CSV, MoTeC (the .ld log and its .ldx lap beacons: two files, i2 opens them together) and
// Parquet. The files are the API's bytes, saved as they come.
import { seg, download, ApiError } from '../api.js';
import { h, toast } from '../dom.js';

export const FORMATS = [
	{ label: 'CSV', formats: ['csv'], title: 'every channel as CSV (a spreadsheet, pandas)' },
	{ label: 'MoTeC', formats: ['ld', 'ldx'], title: 'MoTeC i2: the .ld log and its .ldx lap beacons' },
	{ label: 'Parquet', formats: ['parquet'], title: 'Parquet (pandas, DuckDB, Arrow)' },
];

export function exportPath(sid, rid, lap, format) {
	return `/api/sessions/${seg(sid)}/runs/${seg(rid)}/export?format=${format}${lap ? `&lap=${lap}` : ''}`;
}

// name: the file name without its extension.
export function exportButtons(sid, rid, lap, name) {
	const base = String(name || 'export').replace(/[^\w.-]+/g, '_');
	return h('div.row.export', { style: { gap: '4px' } }, FORMATS.map((f) => h('button.small', {
		title: `${f.title}${lap ? `, lap ${lap}` : ', the whole run'}`,
		dataset: { export: f.formats[0], lap: lap || '' },
		onclick: async () => {
			try {
				for (const fm of f.formats) await download(exportPath(sid, rid, lap, fm), `${base}.${fm}`);
			} catch (x) {
				toast(`Export: ${x instanceof ApiError ? `${x.message} (${x.status})` : x}`, 'error');
			}
		},
	}, f.label)));
}
