import * as prng from 'lib0/prng';
import { describe, expect, it } from 'vitest';
import { AppendList } from '../../../src/lib/model';

describe('AppendList', () => {
	it('appends in place to the newest list and copies for any other, so no list ever changes', () => {
		const a = AppendList.of([1, 2]);
		const b = a.append([3]);
		const c = a.append([4]); // a is not the newest of its storage any more: a copy
		const d = b.truncate(1).append([5]);
		expect([a, b, c, d].map((l) => [...l])).toEqual([
			[1, 2],
			[1, 2, 3],
			[1, 2, 4],
			[1, 5]
		]);
		expect(b.sharedPrefix(a)).toBe(2);
		expect(c.sharedPrefix(b)).toBe(2);
		expect(d.sharedPrefix(b)).toBe(1);
		expect(a.append([])).toBe(a);
		expect(b.at(-1)).toBe(3);
		expect(b.get(3)).toBeUndefined();
		expect(a.get(2)).toBeUndefined(); // b's item is beyond a's length
		expect(b.findLast((x) => x < 3)).toBe(2);
		expect(b.findIndex((x) => x === 3)).toBe(2);
		expect(b.map((x) => x * 2)).toEqual([2, 4, 6]);
	});

	it('matches arrays under random appends, truncations and branches (seeded)', () => {
		for (let seed = 1; seed <= 20; seed++) {
			const gen = prng.create(seed);
			// Every list made, beside the array it must always equal.
			const made: Array<{ list: AppendList<object>; array: object[] }> = [
				{ list: AppendList.empty(), array: [] }
			];
			for (let step = 0; step < 200; step++) {
				const from = made[prng.int32(gen, 0, made.length - 1)]!;
				if (prng.int32(gen, 0, 3) === 0) {
					const n = prng.int32(gen, 0, from.array.length);
					made.push({ list: from.list.truncate(n), array: from.array.slice(0, n) });
				} else {
					const more = Array.from({ length: prng.int32(gen, 0, 3) }, () => ({ step }));
					made.push({ list: from.list.append(more), array: [...from.array, ...more] });
				}
				const x = made[prng.int32(gen, 0, made.length - 1)]!;
				const y = made[prng.int32(gen, 0, made.length - 1)]!;
				let shared = 0;
				while (
					shared < Math.min(x.array.length, y.array.length) &&
					x.array[shared] === y.array[shared]
				)
					shared++;
				expect(x.list.sharedPrefix(y.list)).toBe(shared);
			}
			for (const { list, array } of made) {
				expect(list).toHaveLength(array.length);
				expect(list.toArray()).toEqual(array);
				array.forEach((item, i) => expect(list.get(i)).toBe(item));
			}
		}
	});
});
