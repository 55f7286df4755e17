import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, messageLog, newChannel, onboard, post, unique } from './helpers';

/** A second person: a browser context of their own (their own device key and storage). */
async function person(browser: Browser, name: string): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await onboard(page, name, { inGeneral: true });
	return page;
}

function people(page: Page, name: string) {
	return page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('listitem')
		.filter({ hasText: name });
}

test('two people talk in #general through the relay: messages, reactions, threads, edits, deletes, presence', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const ada = unique('Ada');
	const bo = unique('Bo');
	const a = await person(browser, ada);
	const b = await person(browser, bo);

	// Presence comes from the workspace's awareness, as text.
	await expect(people(a, bo)).toContainText('online');
	await expect(people(b, ada)).toContainText('online');

	// Typing shows for the other person, then clears once the message is sent.
	const composerB = b.getByRole('textbox', { name: 'Message' });
	await composerB.pressSequentially('typing…');
	await expect(a.getByText(`${bo} is typing…`)).toBeVisible();
	await composerB.fill('');
	await composerB.press('Escape');

	// Who is online is also kept on the device (the seed's user_status, with last seen).
	await expect
		.poll(() =>
			a.evaluate(async () => {
				const open = indexedDB.open('kith');
				const db = await new Promise<IDBDatabase>((r) => (open.onsuccess = () => r(open.result)));
				const rows = await new Promise<Array<{ is_online: boolean; last_seen: string | null }>>(
					(r) => {
						const req = db.transaction('user_status').objectStore('user_status').getAll();
						req.onsuccess = () => r(req.result);
					}
				);
				db.close();
				return rows.filter((row) => row.is_online && row.last_seen).length;
			})
		)
		.toBeGreaterThanOrEqual(2);

	const hello = unique('hello from Ada');
	await post(a, hello);
	await expect(message(b, hello, 'general')).toContainText(ada);
	const answer = unique('hi Ada, Bo here');
	await post(b, answer);
	await expect(message(a, answer, 'general')).toContainText(bo);

	// Bo reacts to Ada's message; Ada sees the chip with its count.
	const onA = message(a, hello, 'general');
	const onB = message(b, hello, 'general');
	await onB.hover();
	await onB.getByRole('button', { name: 'Add reaction' }).click();
	await b
		.getByRole('dialog', { name: 'Choose a reaction' })
		.getByRole('button', { name: '🎉', exact: true })
		.click();
	await expect(onA.getByRole('button', { name: '🎉 1' })).toHaveAttribute('aria-pressed', 'false');

	// Ada replies in the thread; Bo sees the reply count and the reply.
	await onA.hover();
	await onA.getByRole('button', { name: 'Reply in thread' }).click();
	const reply = unique('in the thread');
	await a.getByRole('textbox', { name: 'Reply' }).fill(reply);
	await a.getByRole('textbox', { name: 'Reply' }).press('Enter');
	await expect(onB).toContainText('1 reply');
	await onB.hover();
	await onB.getByRole('button', { name: 'Reply in thread' }).click();
	await expect(b.getByRole('complementary').or(b.locator('aside')).first()).toContainText(reply);
	await b.keyboard.press('Escape');
	await a.keyboard.press('Escape');

	// Ada edits, then deletes, her answer-to-be: Bo sees both.
	const typo = unique('teh plan');
	await post(a, typo);
	const typoOnA = message(a, typo, 'general');
	await typoOnA.hover();
	await typoOnA.getByRole('button', { name: 'Edit message' }).click();
	const fixed = typo.replace('teh', 'the');
	await a.getByRole('textbox', { name: 'Edit your message' }).fill(fixed);
	await a.getByRole('textbox', { name: 'Edit your message' }).press('Enter');
	await expect(message(b, fixed, 'general')).toContainText('(edited)');
	const fixedOnA = message(a, fixed, 'general');
	await fixedOnA.hover();
	await fixedOnA.getByRole('button', { name: 'Delete message' }).click();
	await a.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
	await expect(message(b, fixed, 'general')).toHaveCount(0);

	// Bo closes his tab: the relay drops his presence at once.
	await b.context().close();
	await expect(people(a, bo)).toContainText('offline', { timeout: 5_000 });
	await a.context().close();
});

test('a direct message, a message written offline that arrives after reconnect, and a reload that keeps everything', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const ada = unique('Ada');
	const bo = unique('Bo');
	const a = await person(browser, ada);
	const b = await person(browser, bo);
	await expect(people(a, bo)).toContainText('online');

	const nav = a.getByRole('navigation', { name: 'Conversations' });
	await nav.getByRole('button', { name: 'New direct message' }).click();
	await a
		.getByRole('dialog', { name: 'New direct message' })
		.getByRole('button', { name: new RegExp(bo) })
		.click();
	await expect(a.getByRole('heading', { level: 1 })).toHaveText(bo);
	const dm = unique('just between us');
	await a.getByRole('textbox', { name: 'Message' }).fill(dm);
	await a.getByRole('textbox', { name: 'Message' }).press('Enter');
	await expect(message(a, dm, bo)).not.toContainText('Not yet delivered');

	// Bo finds the conversation Ada started, named after her.
	const bNav = b.getByRole('navigation', { name: 'Conversations' });
	await bNav.getByRole('link', { name: new RegExp(ada) }).click();
	await expect(message(b, dm, ada)).toHaveCount(1);
	// Ada sees that Bo's device holds it, from the state vector his device publishes.
	await expect(message(a, dm, bo)).toContainText('On 1 other device');

	// Bo loses the network: his message shows at once, marked, and reaches Ada on reconnect.
	await b.context().setOffline(true);
	await expect(b.getByRole('status', { name: 'Connection' })).toContainText('Offline');
	const offline = unique('written in a tunnel');
	await b.getByRole('textbox', { name: 'Message' }).fill(offline);
	await b.getByRole('textbox', { name: 'Message' }).press('Enter');
	await expect(message(b, offline, ada)).toContainText('Not yet delivered');
	await a.waitForTimeout(500);
	await expect(message(a, offline, bo)).toHaveCount(0);
	await b.context().setOffline(false);
	await expect(message(a, offline, bo)).toHaveCount(1, { timeout: 10_000 });
	await expect(message(b, offline, ada)).not.toContainText('Not yet delivered', {
		timeout: 10_000
	});

	// A reload keeps everything, from the device itself.
	await a.reload();
	await expect(messageLog(a, bo)).toBeVisible();
	await expect(message(a, dm, bo)).toHaveCount(1);
	await expect(message(a, offline, bo)).toHaveCount(1);
	await a.context().close();
	await b.context().close();
});

test('a device connects only to the conversations its person is in, not one per channel or person', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const ada = unique('Ada');
	const bo = unique('Bo');
	const a = await person(browser, ada);
	// A channel Bo is not in: public, listed in the workspace.
	await newChannel(a, unique('not-for-bo'));
	const notForBo = new URL(a.url()).pathname.split('/').at(-1)!;

	const context = await browser.newContext();
	const b = await context.newPage();
	const opened = new Set<string>();
	b.on('websocket', (ws) => opened.add(decodeURIComponent(new URL(ws.url()).pathname)));
	await onboard(b, bo, { inGeneral: true });
	await expect(people(b, ada)).toContainText('online');
	// Whatever else the workspace holds (other tests' people and channels), Bo's device holds a
	// connection for the workspace, its own inbox and #general, nothing more.
	await b.waitForTimeout(1_000);
	const paths = [...opened];
	expect(paths).toContain('/sync/workspace');
	expect(paths.filter((p) => p.startsWith('/sync/inbox:'))).toHaveLength(1);
	expect(paths.filter((p) => p.startsWith('/sync/conv:'))).toHaveLength(1);
	expect(paths).toHaveLength(3);
	expect([...opened].some((p) => p.includes(notForBo))).toBe(false);

	// Ada starts a direct message with Bo: his inbox tells his device, which opens it.
	const nav = a.getByRole('navigation', { name: 'Conversations' });
	await nav.getByRole('button', { name: 'New direct message' }).click();
	await a
		.getByRole('dialog', { name: 'New direct message' })
		.getByRole('button', { name: new RegExp(bo) })
		.click();
	const hello = unique('hello Bo');
	await a.getByRole('textbox', { name: 'Message' }).fill(hello);
	await a.getByRole('textbox', { name: 'Message' }).press('Enter');
	const bNav = b.getByRole('navigation', { name: 'Conversations' });
	await expect(bNav.getByRole('link', { name: new RegExp(ada) })).toBeVisible({ timeout: 10_000 });
	expect(opened.size).toBe(4);
	await a.context().close();
	await context.close();
});
