import { expect, type Locator, type Page } from '@playwright/test';

/** Onboards a fresh browser context and waits for #general. */
export async function onboard(page: Page, name: string): Promise<void> {
	await page.goto('/');
	await page.getByRole('textbox', { name: 'Display name' }).fill(name);
	await page.getByRole('button', { name: 'Continue' }).click();
	await expect(page.getByRole('log', { name: 'general' })).toBeVisible();
}

export function messageLog(page: Page, name = 'general'): Locator {
	return page.getByRole('log', { name });
}

/** The message article holding some text. */
export function message(page: Page, text: string, log = 'general'): Locator {
	return messageLog(page, log).getByRole('article').filter({ hasText: text });
}

/** Types into the composer and presses Enter. */
export async function post(page: Page, text: string): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(text);
	await box.press('Enter');
	await expect(message(page, text.split('\n')[0]!)).toHaveCount(1);
}
