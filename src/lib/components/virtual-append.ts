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
 * This leans on two of the library's internals (`getMeasurementOptions`, `pendingMin`), so
 * tests/unit/ui/virtual-append.test.ts checks both that the layout equals a full one and that the
 * full pass was skipped: an upgrade that changes them fails there, not in the list.
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

/** How many leading rows `next` shares with `previous` (the same objects). */
export function sharedPrefix<T>(previous: readonly T[], next: readonly T[]): number {
	const n = Math.min(previous.length, next.length);
	let i = 0;
	while (i < n && previous[i] === next[i]) i++;
	return i;
}
