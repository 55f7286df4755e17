import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, onboard, post, unique } from './helpers';

async function seriousViolations(page: Page) {
	const results = await new AxeBuilder({ page }).analyze();
	return results.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** A conversation with something in it: a run, a reaction, an edit and an open thread. */
async function busyConversation(page: Page) {
	await onboard(page, 'Ada');
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill('Good morning, **team**! See https://example.com');
	await box.press('Enter');
	await expect(message(page, 'Good morning')).toHaveCount(1);
	await post(page, 'Standup in 5');
	const first = message(page, 'Good morning');
	await first.hover();
	await first.getByRole('button', { name: 'Add reaction' }).click();
	await page
		.getByRole('dialog', { name: 'Choose a reaction' })
		.getByRole('button', { name: '👋' })
		.or(
			page
				.getByRole('dialog', { name: 'Choose a reaction' })
				.getByRole('button', { name: '🎉', exact: true })
		)
		.first()
		.click();
	await first.getByRole('button', { name: 'Reply in thread' }).click();
	await page.getByRole('textbox', { name: 'Reply' }).fill('Morning!');
	await page.getByRole('textbox', { name: 'Reply' }).press('Enter');
	await expect(first).toContainText('1 reply');
}

for (const scheme of ['light', 'dark'] as const) {
	test.describe(`in the ${scheme} theme`, () => {
		test.use({ colorScheme: scheme });

		test('onboarding has no serious or critical accessibility violations', async ({ page }) => {
			await page.goto('/');
			await expect(page.getByRole('textbox', { name: 'Display name' })).toBeVisible();
			expect(await seriousViolations(page)).toEqual([]);
		});

		test('the conversation screen has no serious or critical accessibility violations', async ({
			page
		}) => {
			await busyConversation(page);
			expect(await seriousViolations(page)).toEqual([]);
		});

		test('the settings page has no serious or critical accessibility violations', async ({
			page
		}) => {
			await onboard(page, 'Ada');
			await page.getByRole('link', { name: 'Settings' }).click();
			await expect(page.getByRole('button', { name: /Free space of/ }).first()).toBeVisible();
			expect(await seriousViolations(page)).toEqual([]);
		});
	});
}

test('the conversation screen at phone width has no serious or critical violations', async ({
	page
}) => {
	await page.setViewportSize({ width: 360, height: 740 });
	// At phone width the sidebar is a drawer: stay in #general rather than make a channel.
	await onboard(page, 'Ada', { inGeneral: true });
	await post(page, unique('from my phone'));
	expect(await seriousViolations(page)).toEqual([]);
	await page.getByRole('button', { name: 'Open conversations' }).click();
	const nav = page.getByRole('navigation', { name: 'Conversations' });
	await expect(nav.getByRole('link', { name: 'general' })).toBeFocused();
	expect(await seriousViolations(page)).toEqual([]);
	await page.keyboard.press('Escape');
	await expect(nav.getByRole('link', { name: 'general' })).toBeHidden();
	await expect(page.getByRole('button', { name: 'Open conversations' })).toBeFocused();
});

test('everything is operable from the keyboard, and Escape closes what it opened', async ({
	page
}) => {
	await onboard(page, 'Ada');
	await post(page, 'keyboard only');
	await post(page, 'the newest');
	const posted = message(page, 'keyboard only');
	// From the log, Tab goes message by message; a message's actions appear when it has focus,
	// and the next Tab goes into them (no toolbar on every message in the tab order).
	const log = page.getByRole('log');
	await log.focus();
	await page.keyboard.press('Tab');
	await expect(posted).toBeFocused();
	await expect(message(page, 'the newest').getByRole('button')).toHaveCount(0);
	const react = posted.getByRole('button', { name: 'Add reaction' });
	await page.keyboard.press('Tab');
	await expect(react).toBeFocused();
	await page.keyboard.press('Enter');
	const picker = page.getByRole('dialog', { name: 'Choose a reaction' });
	await expect(picker.getByRole('button', { name: '👍', exact: true })).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(picker).toHaveCount(0);
	await expect(react).toBeFocused();

	await page.keyboard.press('Tab');
	await expect(posted.getByRole('button', { name: 'Reply in thread' })).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(page.getByRole('textbox', { name: 'Reply' })).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(page.getByRole('complementary', { name: 'Thread' })).toHaveCount(0);
	await expect(posted.getByRole('button', { name: 'Reply in thread' })).toBeFocused();

	await page.getByRole('button', { name: 'New channel' }).focus();
	await page.keyboard.press('Enter');
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await expect(dialog.getByRole('textbox', { name: 'Channel name' })).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(dialog).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'New channel' })).toBeFocused();
});
