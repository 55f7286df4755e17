import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/lib/model';
import {
	ErrorCenter,
	describeError,
	isBenignWindowError
} from '../../../src/lib/state/errors.svelte';

describe('the one error path', () => {
	it('shows a validation message as written, and says to change the input', () => {
		const e = new ValidationError('bad_name', 'A channel name cannot be empty.');
		expect(describeError(e)).toEqual({
			reason: 'A channel name cannot be empty.',
			action: 'Change it and try again.'
		});
	});

	it('explains a full disk in plain words', () => {
		const e = new DOMException('quota', 'QuotaExceededError');
		expect(describeError(e).reason).toMatch(/storage space/);
		expect(describeError(e).action).toMatch(/Free some space/);
	});

	it('says what failed, once per repeated failure, keeping the newest four', () => {
		const center = new ErrorCenter();
		center.report(new Error('disk on fire'), 'Saving');
		center.report(new Error('disk on fire'), 'Saving');
		expect(center.notices).toHaveLength(1);
		expect(center.notices[0]).toMatchObject({ what: 'Saving', reason: 'disk on fire' });
		for (let i = 0; i < 5; i++) center.report(new Error(`e${i}`), 'Posting');
		expect(center.notices.map((n) => n.reason)).toEqual(['e1', 'e2', 'e3', 'e4']);
		center.dismiss(center.notices[0]!.id);
		expect(center.notices).toHaveLength(3);
	});

	it("does not take the browser's deferred ResizeObserver notifications for a failure", () => {
		for (const message of [
			'ResizeObserver loop completed with undelivered notifications.',
			'ResizeObserver loop limit exceeded'
		]) {
			expect(isBenignWindowError({ message, error: null })).toBe(true);
			expect(isBenignWindowError({ message })).toBe(true);
		}
		// A thrown error is a failure, whatever it says; so is any other message.
		const thrown = new Error('ResizeObserver loop completed with undelivered notifications.');
		expect(isBenignWindowError({ message: thrown.message, error: thrown })).toBe(false);
		expect(
			isBenignWindowError({ message: 'Uncaught TypeError: x is undefined', error: null })
		).toBe(false);
	});
});
