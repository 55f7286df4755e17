import { afterEach, describe, expect, it, vi } from 'vitest';

/** requestIdleCallback stood in for: each idle period is run by hand, with `budget` items. */
function idlePeriods() {
	const pending = new Map<number, (d: { timeRemaining(): number }) => void>();
	let next = 1;
	let budget = 0;
	vi.stubGlobal('requestIdleCallback', (fn: (d: { timeRemaining(): number }) => void) => {
		pending.set(next, fn);
		return next++;
	});
	vi.stubGlobal('cancelIdleCallback', (h: number) => pending.delete(h));
	return {
		get pending() {
			return pending.size;
		},
		/** Runs the idle callbacks due now, each allowed `items` pieces of work. */
		run(items: number) {
			for (const [h, fn] of [...pending]) {
				pending.delete(h);
				budget = items;
				fn({ timeRemaining: () => (budget > 0 ? 10 : 0) });
			}
		},
		spend() {
			budget--;
		}
	};
}

describe('IdleQueue', () => {
	afterEach(() => {
		vi.unstubAllGlobals();
		vi.resetModules();
	});

	it('works through its queue in idle periods only, in order, as much as each period allows', async () => {
		const idle = idlePeriods();
		const { IdleQueue } = await import('../../../src/lib/components/idle');
		const q = new IdleQueue();
		const done: number[] = [];
		q.replace([1, 2, 3, 4, 5], (i) => {
			done.push(i);
			idle.spend();
		});
		expect(done).toEqual([]);
		idle.run(2);
		expect(done).toEqual([1, 2]);
		idle.run(2);
		expect(done).toEqual([1, 2, 3, 4]);
		idle.run(10);
		expect(done).toEqual([1, 2, 3, 4, 5]);
		expect(idle.pending).toBe(0);
	});

	it('drops what a replace leaves undone, and stops when cancelled', async () => {
		const idle = idlePeriods();
		const { IdleQueue } = await import('../../../src/lib/components/idle');
		const q = new IdleQueue();
		const done: number[] = [];
		const work = (i: number) => {
			done.push(i);
			idle.spend();
		};
		q.replace([1, 2, 3], work);
		idle.run(1);
		q.replace([7, 8], work);
		idle.run(10);
		expect(done).toEqual([1, 7, 8]);
		q.replace([9], work);
		q.cancel();
		idle.run(10);
		expect(done).toEqual([1, 7, 8]);
		expect(idle.pending).toBe(0);
	});
});
