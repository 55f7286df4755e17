import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, messageLog, onboard, post } from './helpers';

/**
 * Holds every read of a document's stored records (the `updates` store: LocalDoc) until the
 * test calls `window.__releaseDocs()`; the index (Dexie's stores) is read as usual. So the view
 * can be caught between "newest page shown from the index" and "document loaded".
 */
async function holdDocumentLoads(page: Page): Promise<void> {
	await page.addInitScript(() => {
		let release = () => {};
		const held = new Promise<void>((r) => (release = r));
		(window as unknown as { __releaseDocs: () => void }).__releaseDocs = release;
		const getAll = IDBObjectStore.prototype.getAll;
		IDBObjectStore.prototype.getAll = function (this: IDBObjectStore, ...args) {
			const req = getAll.apply(this, args);
			if (this.name !== 'updates' || !this.transaction.db.name.startsWith('conv:')) return req;
			let handler: ((e: Event) => void) | null = null;
			Object.defineProperty(req, 'onsuccess', {
				get: () => handler,
				set: (h: ((e: Event) => void) | null) => (handler = h)
			});
			req.addEventListener('success', (e) => void held.then(() => handler?.(e)));
			return req;
		} as typeof getAll;
	});
}

async function react(page: Page, text: string, emoji: string): Promise<void> {
	const m = message(page, text);
	await m.hover();
	await m.getByRole('button', { name: 'Add reaction' }).click();
	await page
		.getByRole('dialog', { name: 'Choose a reaction' })
		.getByRole('button', { name: emoji, exact: true })
		.click();
	await expect(m.getByRole('button', { name: `${emoji} 1` })).toBeVisible();
}

test('a cold open shows the newest messages from the index before the document has loaded, then the same live', async ({
	page,
	context
}) => {
	await onboard(page, 'Ada');
	await post(page, 'first, with a thread');
	const first = message(page, 'first, with a thread');
	await first.hover();
	await first.getByRole('button', { name: 'Reply in thread' }).click();
	const reply = page.getByRole('textbox', { name: 'Reply' });
	await reply.fill('a reply');
	await reply.press('Enter');
	await expect(first).toContainText('1 reply');
	await reply.press('Escape');
	await react(page, 'first, with a thread', '👍');

	await post(page, 'teh second');
	const second = message(page, 'teh second');
	await second.hover();
	await second.getByRole('button', { name: 'Edit message' }).click();
	const editor = page.getByRole('textbox', { name: 'Edit your message' });
	await editor.fill('the second');
	await editor.press('Enter');
	await expect(message(page, 'the second')).toContainText('(edited)');

	await post(page, 'third, to be deleted');
	const third = message(page, 'third, to be deleted');
	await third.hover();
	await third.getByRole('button', { name: 'Delete message' }).click();
	await page
		.getByRole('dialog', { name: 'Delete message?' })
		.getByRole('button', { name: 'Delete' })
		.click();
	await expect(messageLog(page)).toContainText('This message was deleted.');
	await post(page, 'the newest');
	// The index marks itself in step after 1 s without writes (src/lib/db/indexer.ts).
	await page.waitForTimeout(2_000);

	await context.setOffline(true);
	await holdDocumentLoads(page);
	await page.reload();
	const view = page.locator('section.conversation');
	const log = messageLog(page);
	const expectShown = async () => {
		await expect(message(page, 'the newest')).toBeVisible();
		await expect(message(page, 'the second')).toContainText('(edited)');
		await expect(message(page, 'teh second')).toHaveCount(0);
		await expect(message(page, 'third, to be deleted')).toHaveCount(0);
		await expect(log).toContainText('This message was deleted.');
		const again = message(page, 'first, with a thread');
		await expect(again).toContainText('1 reply');
		await expect(again).toContainText('Ada');
		await expect(again.getByRole('button', { name: '👍 1' })).toHaveAttribute(
			'aria-pressed',
			'true'
		);
	};
	// Shown from the index while the document's records are held back.
	await expect(view).toHaveAttribute('aria-busy', 'true');
	await expectShown();
	const before = await log.getByRole('article').allInnerTexts();

	// Posting before the document is in waits, shown, and loses nothing.
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill('sent while opening');
	await box.press('Enter');
	await expect(page.getByRole('status').filter({ hasText: 'Sending once' })).toBeVisible();
	await expect(box).toHaveValue('sent while opening');

	await page.evaluate(() => (window as unknown as { __releaseDocs: () => void }).__releaseDocs());
	await expect(view).toHaveAttribute('aria-busy', 'false');
	await expect(message(page, 'sent while opening')).toHaveCount(1);
	await expect(box).toHaveValue('');
	await expectShown();
	const after = await log.getByRole('article').allInnerTexts();
	expect(after.slice(0, before.length)).toEqual(before);
});
