/**
 * Appending rows to a TanStack Virtual list without measuring every row again.
 *
 * The virtualizer lays out all rows (their keys, sizes and offsets) whenever its options change,
 * and a new count is a change: its options memo drops the partial re-measure it otherwise does
 * from the first row whose size changed. In a 100,000-message conversation that was the largest
 * part of posting a message (`getMeasurements`: 100,000 keys and sizes, ~25 ms per post under
 * load, and the garbage of it; docs/BENCHMARKS.md). When the rows before `from` are the same
 * ones as before, their layout stands: only the rows from there on need it.
 *
 * A partial layout still copied the row keys (`items.slice()`: 100,000 of them, twice a post:
 * once for the new count and once when the new row is measured). Those rows before the first
 * laid out one are unchanged, and every row from there on is written anew, so the keys are laid
 * out in place instead: the layout the copy was taken from is replaced by the new one at once.
 *
 * This leans on three of the library's internals (`getMeasurementOptions`, `pendingMin` and the
 * keys array `_singleLaneMeasurements.items`), so tests/unit/ui/virtual-append.test.ts checks
 * that the layout equals a full one, that the full pass was skipped and that the keys were not
 * copied: an upgrade that changes them fails there, not in the list.
 *
 * @example
 * const append = keepMeasurementsOnAppend(virtualizer);
 * append(virtualizer, rows.length, firstChangedRow); // instead of setOptions({ count })
 */
/** The internals used here (not in the library's types). */
interface Internals {
	pendingMin: number | null;
	getMeasurementOptions: () => { count: number };
	_singleLaneMeasurements: { flat: Float64Array; items: unknown[] } | null;
	options: { count: number; lanes: number };
}

/**
 * Patches `virtualizer` so that a count set through the returned function keeps the layout of the
 * rows before `from`. `from` must be at most the old count, and those rows unchanged (same keys,
 * same sizes); a count that shrinks lays out everything, as before.
 */
export function keepMeasurementsOnAppend(virtualizer: {
	getTotalSize(): number;
}): (setCount: (count: number) => void, count: number, from: number) => void {
	const inner = virtualizer as unknown as Internals;
	const original = inner.getMeasurementOptions;
	let keep: number | null = null;
	let last: unknown = null;
	inner.getMeasurementOptions = () => {
		const pending = inner.pendingMin;
		const options = original();
		const single = inner._singleLaneMeasurements;
		if (options !== last && keep !== null && single != null) {
			inner.pendingMin = Math.min(pending ?? keep, keep);
			// Its starts and sizes (two numbers a row) are reallocated at exactly the new length
			// when too short, so every post copied 1.6 MB: grown here with room for more instead.
			const need = options.count * 2;
			if (single.flat.length < need) {
				const flat = new Float64Array(need + Math.max(need >> 3, 256));
				flat.set(single.flat);
				single.flat = flat;
			}
		}
		// A layout from a first row past 0 (an append, a measured row) starts from a copy of these
		// keys; one from 0 (a shrinking count, lanes) makes a new array, so they never shrink here.
		if (single != null && single.items.slice !== inPlace)
			Object.defineProperty(single.items, 'slice', { value: inPlace, configurable: true });
		last = options;
		return options;
	};
	return (setCount, count, from) => {
		const before = inner.options.count;
		keep = count >= before && inner.options.lanes === 1 ? Math.min(from, before) : null;
		try {
			setCount(count);
			// Laid out here (the total size reads the layout), while `keep` holds: the next read
			// would have laid it out anyway.
			virtualizer.getTotalSize();
		} finally {
			keep = null;
		}
	};
}

/** The keys array's `slice` for the layout's copy of it: the same array. */
function inPlace<T>(this: T[]): T[] {
	return this;
}
