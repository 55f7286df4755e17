import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SearchSchedule } from '../../../src/lib/components/search-schedule';

describe('SearchSchedule', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	function setup() {
		const ran: string[] = [];
		const schedule = new SearchSchedule((text) => ran.push(text), 120);
		return { ran, schedule };
	}

	it('searches the first input at once, with no wait', () => {
		const { ran, schedule } = setup();
		schedule.input('ships');
		expect(ran).toEqual(['ships']);
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['ships']);
	});

	it('coalesces fast typing after it into one search of the latest text', () => {
		const { ran, schedule } = setup();
		schedule.input('c');
		vi.advanceTimersByTime(50);
		schedule.input('ca');
		vi.advanceTimersByTime(50);
		schedule.input('caf');
		vi.advanceTimersByTime(100);
		expect(ran).toEqual(['c']);
		schedule.input('cafe');
		vi.advanceTimersByTime(119);
		expect(ran).toEqual(['c']);
		vi.advanceTimersByTime(1);
		expect(ran).toEqual(['c', 'cafe']);
	});

	it('searches at once again after a quiet spell', () => {
		const { ran, schedule } = setup();
		schedule.input('a');
		vi.advanceTimersByTime(120);
		schedule.input('b');
		expect(ran).toEqual(['a', 'b']);
	});

	it('searches at once on Enter and drops what was waiting, and cancels', () => {
		const { ran, schedule } = setup();
		schedule.input('a');
		schedule.input('ab');
		schedule.now('abc');
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['a', 'abc']);
		schedule.input('x');
		schedule.input('xy');
		schedule.cancel();
		vi.advanceTimersByTime(1_000);
		expect(ran).toEqual(['a', 'abc', 'x']);
	});
});
