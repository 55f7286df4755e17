import { Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core';
import { describe, expect, it } from 'vitest';
import { keepMeasurementsOnAppend } from '../../../src/lib/components/virtual-append';

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

const internals = (v: Virtualizer<Element, Element>) =>
	(v as unknown as { _singleLaneMeasurements: { items: unknown[] } })._singleLaneMeasurements;

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
		const keysBefore = internals(v).items;
		append(setCount, keys.length, 10_000);
		// Only the three new rows: a full layout asks for all 10,003 keys.
		expect(calls.keys).toBeLessThan(10);
		// Laid out in the keys array of the layout before, not in a copy of it.
		expect(internals(v).items).toBe(keysBefore);
		// A row measured afterwards is laid out there too.
		v.resizeItem(10_002, 50);
		measured.set('m10001', 50);
		expect(internals(v).items).toBe(keysBefore);
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
