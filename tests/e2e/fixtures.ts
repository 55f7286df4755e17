import { test as base, expect } from '@playwright/test';
import { unexpectedNotices } from './helpers';

/**
 * Playwright's `test`, failing any test in which a watched page (every page `onboard`
 * onboarded, any page opened later in its context, and any page passed to `watchNotices`)
 * showed an error notice the test did not ask for with `expectNotice`. A notice is the person
 * being told that something failed: a test that passes with one on screen hides a bug (two did:
 * a ResizeObserver notice while scrolling, a Svelte error when Escape closed a thread from its
 * reply box).
 */
export const test = base.extend<{ noUnexpectedNotices: void }>({
	noUnexpectedNotices: [
		// No fixture needed (asking for `page` would open one in tests that make their own).
		// eslint-disable-next-line no-empty-pattern
		async ({}, use) => {
			unexpectedNotices();
			await use();
			expect(unexpectedNotices(), 'error notices the test did not expect').toEqual([]);
		},
		{ auto: true }
	]
});

export { expect };
