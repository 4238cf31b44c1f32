import { h, put } from '../dom.js';
export function mount(el) {
	put(el, h('div.card', h('h1', 'laps'), h('p.muted', 'coming')));
	return () => {};
}
