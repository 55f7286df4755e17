import { Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { describe, expect, it } from 'vitest';
import { keepMeasurementsOnAppend, sharedPrefix } from '../../../src/lib/components/virtual-append';

/** A virtualizer with no element (layout only), its keys and estimates counted. */
function list(keys: string[], measured: Map<string, number>) {
	const calls = { keys: 0 };
	const options: VirtualizerOptions<Element, Element> = {
		count: keys.length,
		getScrollElement: () => null,
		estimateSize: (i) => (i % 3 === 0 ? 64 : 28),
		getItemKey: (i) => {
			calls.keys++;
			return keys[i]!;
		},
		scrollToFn: () => {},
		observeElementRect: () => {},
		observeElementOffset: () => {}
	};
	const v = new Virtualizer(options);
	for (const [key, size] of measured) v.itemSizeCache.set(key, size);
	return { v, calls, setCount: (count: number) => v.setOptions({ ...v.options, count }) };
}

const layout = (v: Virtualizer<Element, Element>) => {
	v.getTotalSize();
	return Array.from({ length: v.options.count }, (_, i) => {
		const m = v.measurementsCache[i]!;
		return [m.key, m.start, m.size];
	});
};

describe('keepMeasurementsOnAppend', () => {
	const keys = Array.from({ length: 10_000 }, (_, i) => `m${i}`);
	const measured = new Map(keys.filter((_, i) => i % 7 === 0).map((k, i) => [k, 40 + (i % 5)]));

	it('lays out appended rows as a full layout would, without laying out the rows before them', () => {
		const { v, calls, setCount } = list(keys, measured);
		v.getTotalSize();
		const append = keepMeasurementsOnAppend(v);
		keys.push('m10000', 'day-x', 'm10001');
		measured.set('day-x', 40);
		v.itemSizeCache.set('day-x', 40);
		calls.keys = 0;
		append(setCount, keys.length, 10_000);
		// Only the three new rows: a full layout asks for all 10,003 keys.
		expect(calls.keys).toBeLessThan(10);
		const fresh = list(keys, measured).v;
		expect(layout(v)).toEqual(layout(fresh));
		expect(v.getTotalSize()).toBe(fresh.getTotalSize());
	});

	it('lays out from the first changed row, and everything when the count shrinks', () => {
		const { v, calls, setCount } = list(keys, measured);
		v.getTotalSize();
		const append = keepMeasurementsOnAppend(v);
		keys.splice(5_000, 0, 'inserted');
		calls.keys = 0;
		append(setCount, keys.length, 5_000);
		expect(calls.keys).toBeLessThan(5_100);
		expect(layout(v)).toEqual(layout(list(keys, measured).v));

		keys.splice(100, 1);
		calls.keys = 0;
		append(setCount, keys.length, 100);
		expect(calls.keys).toBeGreaterThanOrEqual(keys.length);
		expect(layout(v)).toEqual(layout(list(keys, measured).v));
	});
});

describe('sharedPrefix', () => {
	const a = { id: 'a' };
	const b = { id: 'b' };
	const c = { id: 'c' };
	const cases: Array<[previous: object[], next: object[], shared: number]> = [
		[[], [a], 0],
		[[a, b], [a, b, c], 2],
		[[a, b], [a, { id: 'b' }, c], 1],
		[[a, b, c], [a, b], 2]
	];
	for (const [previous, next, shared] of cases)
		it(`finds ${shared} shared of ${previous.length} → ${next.length} rows`, () => {
			expect(sharedPrefix(previous, next)).toBe(shared);
		});
});
