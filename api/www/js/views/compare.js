import { h, put } from '../dom.js';
export function mount(el) {
	put(el, h('div.card', h('h1', 'compare'), h('p.muted', 'coming')));
	return () => {};
}
