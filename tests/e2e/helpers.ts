import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';

/**
 * Every test shares one relay (playwright.config.ts), so #general fills up across tests. A
 * test works in a channel of its own unless it asks for #general; `messageLog` and `message`
 * default to the channel the last `onboard` landed in.
 */
let current = 'general';

/**
 * The error notices (`handleError`, the app's one error path, logs each as "[notice] <what>
 * failed: …") of the pages a test watches, since the test began. `onboard` watches every page
 * it onboards (and the pages opened later in its context); tests/e2e/fixtures.ts fails a test
 * that leaves one it did not expect.
 */
const notices: string[] = [];
const expected: RegExp[] = [];
const watched = new WeakSet<Page | BrowserContext>();

/** Records the error notices `page`, and every page opened later in its context, show. */
export function watchNotices(page: Page): void {
	if (watched.has(page)) return;
	watched.add(page);
	const context = page.context();
	if (!watched.has(context)) {
		watched.add(context);
		context.on('page', watchNotices);
	}
	page.on('console', (m) => {
		if (m.type() === 'error' && m.text().startsWith('[notice] ')) notices.push(m.text());
	});
}

/** A notice the test provokes on purpose (a refused action): not a failure of the test. */
export function expectNotice(pattern: RegExp): void {
	expected.push(pattern);
}

/** The notices since the last call that no `expectNotice` pattern matches; starts over. */
export function unexpectedNotices(): string[] {
	const found = notices.filter((n) => !expected.some((p) => p.test(n)));
	notices.length = 0;
	expected.length = 0;
	return found;
}

/** A name no other test uses. */
export function unique(base: string): string {
	return `${base}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Creates a channel from the sidebar and waits until it is open. */
export async function newChannel(page: Page, name: string): Promise<string> {
	const nav = page.getByRole('navigation', { name: 'Conversations' });
	await nav.getByRole('button', { name: 'New channel' }).click();
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill(name);
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	await expect(page.getByRole('log', { name })).toBeVisible();
	return name;
}

/**
 * Onboards a fresh browser context and waits for #general; then, unless `inGeneral`, opens a
 * new channel of the test's own.
 */
export async function onboard(
	page: Page,
	name: string,
	options: { inGeneral?: boolean } = {}
): Promise<void> {
	watchNotices(page);
	await page.goto('/');
	await page.getByRole('textbox', { name: 'Display name' }).fill(name);
	await page.getByRole('button', { name: 'Continue' }).click();
	await expect(page.getByRole('log', { name: 'general' })).toBeVisible();
	current = options.inGeneral ? 'general' : await newChannel(page, unique('test'));
}

/** The channel the last `onboard` landed in. */
export function currentChannel(): string {
	return current;
}

export function messageLog(page: Page, name = current): Locator {
	return page.getByRole('log', { name });
}

/** The message article holding some text. */
export function message(page: Page, text: string, log = current): Locator {
	return messageLog(page, log).getByRole('article').filter({ hasText: text });
}

/** Types into the composer and presses Enter. */
export async function post(page: Page, text: string): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(text);
	await box.press('Enter');
	await expect(message(page, text.split('\n')[0]!)).toHaveCount(1);
}

/**
 * Appends a Yjs update to a document's IndexedDB store, as another tab or the relay would
 * have written it (same layout as y-indexeddb: an `updates` store of update records). Waits
 * until the app has created the store.
 */
export async function storeUpdate(page: Page, name: string, update: Uint8Array): Promise<void> {
	await page.evaluate(
		async ({ name, bytes }) => {
			for (let attempt = 0; ; attempt++) {
				const db = await new Promise<IDBDatabase>((resolve, reject) => {
					const req = indexedDB.open(name);
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				try {
					if (!db.objectStoreNames.contains('updates')) {
						if (attempt > 100) throw new Error(`${name} has no updates store`);
						continue;
					}
					await new Promise<void>((resolve, reject) => {
						const tx = db.transaction('updates', 'readwrite');
						tx.objectStore('updates').add(new Uint8Array(bytes));
						tx.oncomplete = () => resolve();
						tx.onerror = () => reject(tx.error);
					});
					return;
				} finally {
					db.close();
					await new Promise((r) => setTimeout(r, 50));
				}
			}
		},
		{ name, bytes: Array.from(update) }
	);
}
