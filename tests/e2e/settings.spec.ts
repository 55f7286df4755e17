import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import {
	currentChannel,
	expectNotice,
	message,
	messageLog,
	newChannel,
	onboard,
	post,
	unique
} from './helpers';

async function openSettings(page: Page): Promise<void> {
	await page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('link', { name: 'Settings' })
		.click();
	await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
}

async function openChannel(page: Page, name: string): Promise<void> {
	await page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('link', { name: new RegExp(name) })
		.click();
	await expect(messageLog(page, name)).toBeVisible();
}

/** Every message on screen is stored by the relay (none marked "Not yet delivered"). */
async function allDelivered(page: Page, log: string): Promise<void> {
	await expect(messageLog(page, log).getByText('Not yet delivered')).toHaveCount(0);
}

test.describe('settings', () => {
	test('export downloads the seed tables, and importing the file brings a freed conversation back offline', async ({
		page,
		context
	}) => {
		test.setTimeout(60_000);
		await onboard(page, unique('Archivist'));
		const channel = currentChannel();
		const first = unique('kept in the export');
		const second = unique('and this one too');
		await post(page, first);
		await post(page, second);
		await allDelivered(page, channel);

		await openSettings(page);
		const downloading = page.waitForEvent('download');
		await page.getByRole('button', { name: 'Export conversations' }).click();
		const file = await (await downloading).path();
		const backup = JSON.parse(readFileSync(file, 'utf8')) as {
			format: string;
			conversations: Array<{ id: string; name: string | null }>;
			conversation_members: unknown[];
			messages: Array<{ content: string; conversation_id: string }>;
			user_status: Array<{ user_id: string; is_online: boolean }>;
		};
		expect(backup.format).toBe('kith-export');
		const row = backup.conversations.find((c) => c.name === channel);
		expect(row).toBeDefined();
		expect(
			backup.messages.filter((m) => m.conversation_id === row!.id).map((m) => m.content)
		).toEqual([first, second]);
		expect(backup.user_status.some((s) => s.is_online)).toBe(true);
		await expect(
			page.getByRole('status').filter({ hasText: /^Exported \d+ conversations/ })
		).toBeVisible();

		// Free the channel's space: it stays listed, marked as kept on the relay.
		await page.getByRole('button', { name: `Free space of #${channel}` }).click();
		await expect(page.getByRole('status').filter({ hasText: `of #${channel}` })).toContainText(
			'stays on the relay'
		);
		await expect(page.getByRole('row', { name: new RegExp(channel) })).toContainText(
			'on the relay'
		);
		await expect(
			page
				.getByRole('navigation', { name: 'Conversations' })
				.getByRole('link', { name: new RegExp(channel) })
		).toContainText('on the relay');

		// With no relay to bring it back, the file does.
		await context.setOffline(true);
		await page.getByLabel('Import conversations from a file').setInputFiles(file);
		await expect(
			page.getByRole('status').filter({ hasText: /^Imported \d+ conversations/ })
		).toBeVisible();
		await openChannel(page, channel);
		await expect(message(page, first, channel)).toHaveCount(1);
		await expect(message(page, second, channel)).toHaveCount(1);
		await context.setOffline(false);
	});

	test('a freed conversation comes back from the relay when opened', async ({ page }) => {
		await onboard(page, unique('Freer'));
		const channel = currentChannel();
		const id = new URL(page.url()).pathname.split('/').pop()!;
		const text = unique('stored on the relay');
		await post(page, text);
		await allDelivered(page, channel);
		await openSettings(page);
		await page.getByRole('button', { name: `Free space of #${channel}` }).click();
		await expect(page.getByRole('row', { name: new RegExp(channel) })).toContainText(
			'on the relay'
		);
		// Nothing of it is left on the device.
		expect(
			await page.evaluate(
				async (name) => (await indexedDB.databases()).some((d) => d.name === name),
				`conv:${id}`
			)
		).toBe(false);
		await openChannel(page, channel);
		await expect(message(page, text, channel)).toHaveCount(1);
		await openSettings(page);
		await expect(page.getByRole('button', { name: `Free space of #${channel}` })).toBeVisible();
	});

	test('freeing is refused while the relay has not stored everything', async ({
		page,
		context
	}) => {
		expectNotice(/^\[notice\] Freeing space of #\S+ failed: /);
		await onboard(page, unique('Careful'));
		const channel = currentChannel();
		await context.setOffline(true);
		await post(page, unique('written offline'));
		await openSettings(page);
		await page.getByRole('button', { name: `Free space of #${channel}` }).click();
		await expect(page.getByRole('alert')).toContainText('not connected to the relay');
		await expect(page.getByRole('button', { name: `Free space of #${channel}` })).toBeVisible();
		await context.setOffline(false);
	});

	test('with permission, a new message in another conversation shows a notification', async ({
		browser
	}) => {
		test.setTimeout(60_000);
		const record = () => {
			const seen: Array<{ title: string; body: string }> = [];
			(window as unknown as { seenNotifications: typeof seen }).seenNotifications = seen;
			ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
				seen.push({ title, body: String(options?.body) });
				return Promise.resolve();
			};
			const Real = window.Notification;
			class Recorded extends Real {
				constructor(title: string, options?: NotificationOptions) {
					super(title, options);
					seen.push({ title, body: String(options?.body) });
				}
			}
			window.Notification = Recorded as typeof Notification;
		};
		const watcherContext = await browser.newContext();
		await watcherContext.grantPermissions(['notifications']);
		await watcherContext.addInitScript(record);
		const watcher = await watcherContext.newPage();
		const watcherName = unique('Watcher');
		await onboard(watcher, watcherName, { inGeneral: true });
		await openSettings(watcher);
		await watcher.getByRole('button', { name: 'Turn on notifications' }).click();
		await expect(watcher.getByRole('button', { name: 'Turn off notifications' })).toBeVisible();
		// The watcher looks at a channel of their own.
		await newChannel(watcher, unique('elsewhere'));

		const writer = await (await browser.newContext()).newPage();
		const writerName = unique('Writer');
		await onboard(writer, writerName, { inGeneral: true });
		const text = unique('news for everyone');
		await post(writer, text);

		const seen = () =>
			watcher.evaluate(
				() =>
					(window as unknown as { seenNotifications: Array<{ title: string; body: string }> })
						.seenNotifications
			);
		await expect.poll(seen, { timeout: 10_000 }).toContainEqual({
			title: `${writerName} in #general`,
			body: text
		});
		// The badge counts it too, where the platform has one (Chromium does).
		await watcherContext.close();
		await writer.context().close();
	});
});
