// dom.js - building the page without a framework: h() makes elements, table() makes tables,
// toast() and confirmDialog() talk to the driver.

// h('div.card#id', {onclick, style, ...attrs}, children...): children are nodes, strings or arrays.
export function h(spec, attrs, ...children) {
	const m = /^([a-z0-9-]*)((?:[.#][\w-]+)*)$/i.exec(spec);
	const el = document.createElement(m && m[1] ? m[1] : 'div');
	if (m && m[2]) {
		for (const part of m[2].match(/[.#][\w-]+/g)) {
			if (part[0] === '.') el.classList.add(part.slice(1));
			else el.id = part.slice(1);
		}
	}
	if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
		children.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
		else if (k === 'dataset') Object.assign(el.dataset, v);
		else if (k === 'class') String(v).split(/\s+/).filter(Boolean).forEach((c) => el.classList.add(c));
		else if (k in el && typeof v !== 'string') el[k] = v;
		else el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// Replace el's children.
export function put(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

// table(columns, rows, {rowClass, onrow}): columns [{label, get(row) -> node|text, num: bool}].
export function table(columns, rows, opts = {}) {
	const head = h('tr', columns.map((c) => h(c.num ? 'th.num' : 'th', { title: c.title }, c.label)));
	const body = rows.map((r, i) => {
		const tr = h('tr', columns.map((c) => h(c.num ? 'td.num' : 'td', c.get(r, i))));
		const cls = opts.rowClass && opts.rowClass(r, i);
		if (cls) tr.className = cls;
		if (opts.onrow) {
			tr.style.cursor = 'pointer';
			tr.addEventListener('click', (e) => opts.onrow(r, e, tr));
		}
		return tr;
	});
	return h('div.tbl-wrap', h('table.tbl', h('thead', head), h('tbody', body)));
}

export function pill(text, cls) {
	return h('span.pill', { class: `pill ${cls || text || ''}` }, text);
}

export function toast(message, kind = 'info', ms = 5000) {
	const box = document.getElementById('toasts');
	const t = h('div.toast', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
	box.append(t);
	setTimeout(() => t.remove(), ms);
}

// A modal question; resolves true when confirmed.
export function confirmDialog(question, yes = 'Delete') {
	return new Promise((resolve) => {
		const d = h('dialog', h('form', { method: 'dialog' },
			h('p', question),
			h('div.row', { style: { justifyContent: 'flex-end' } },
				h('button', { value: 'no', type: 'submit' }, 'Cancel'),
				h('button.danger', { value: 'yes', type: 'submit', 'data-confirm': 'yes' }, yes))));
		d.addEventListener('close', () => {
			resolve(d.returnValue === 'yes');
			d.remove();
		});
		document.body.append(d);
		d.showModal();
	});
}

// Debounce fn by ms.
export function debounce(fn, ms) {
	let t = 0;
	return (...a) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...a), ms);
	};
}
