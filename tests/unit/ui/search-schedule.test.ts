import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SearchSchedule } from '../../../src/lib/components/search-schedule';

describe('SearchSchedule', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	/** Each search answers when the test says so (`answer(i)`, in any order). */
	function setup() {
		const ran: string[] = [];
		const answers: Array<() => void> = [];
		const schedule = new SearchSchedule((text) => {
			ran.push(text);
			return new Promise<void>((resolve) => answers.push(resolve));
		}, 60);
		const answer = async (i: number) => {
			answers[i]!();
			await vi.advanceTimersByTimeAsync(0);
		};
		return { ran, schedule, answer };
	}

	it('searches the first input at once, with no wait', () => {
		const { ran, schedule } = setup();
		schedule.input('ships');
		expect(ran).toEqual(['ships']);
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['ships']);
	});

	it('searches the latest text typed meanwhile as soon as the running search answers, once', async () => {
		const { ran, schedule, answer } = setup();
		schedule.input('c');
		vi.advanceTimersByTime(10);
		schedule.input('ca');
		schedule.input('caf');
		expect(ran).toEqual(['c']);
		vi.advanceTimersByTime(20);
		await answer(0);
		// No fixed quiet time: 30 ms after the first keystroke, not 120 ms after the last.
		expect(ran).toEqual(['c', 'caf']);
		await answer(1);
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['c', 'caf']);
	});

	it('searches what waits after maxWaitMs when the running search is slow', async () => {
		const { ran, schedule, answer } = setup();
		schedule.input('c');
		schedule.input('cafe');
		vi.advanceTimersByTime(59);
		expect(ran).toEqual(['c']);
		vi.advanceTimersByTime(1);
		expect(ran).toEqual(['c', 'cafe']);
		// The slow one answering late starts nothing more.
		await answer(0);
		expect(ran).toEqual(['c', 'cafe']);
	});

	it('searches at once again once nothing runs', async () => {
		const { ran, schedule, answer } = setup();
		schedule.input('a');
		await answer(0);
		schedule.input('b');
		expect(ran).toEqual(['a', 'b']);
	});

	it('searches at once on Enter and drops what was waiting, and cancels', async () => {
		const { ran, schedule, answer } = setup();
		schedule.input('a');
		schedule.input('ab');
		schedule.now('abc');
		await answer(0);
		await answer(1);
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['a', 'abc']);
		schedule.input('x');
		schedule.input('xy');
		schedule.cancel();
		await answer(2);
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['a', 'abc', 'x']);
	});
});
