import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, messageLog, newChannel, onboard, unique } from './helpers';

/** A word no other test (nor any other run against this relay) uses. */
function word(): string {
	return `q${Math.random().toString(36).slice(2, 8).replace(/\d/g, 'x')}`;
}

function searchBox(page: Page) {
	return page.getByRole('searchbox', { name: 'Search messages' });
}

function results(page: Page) {
	return page.getByRole('region', { name: 'Search results' }).getByRole('link');
}

async function seriousViolations(page: Page) {
	const found = await new AxeBuilder({ page }).analyze();
	return found.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Posts in the channel that is open (`helpers.post` waits in the test's first channel). */
async function post(page: Page, text: string, channel: string): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(text);
	await box.press('Enter');
	await expect(message(page, text, channel)).toHaveCount(1);
}

async function search(page: Page, query: string): Promise<void> {
	await page.keyboard.press('Control+K');
	await expect(searchBox(page)).toBeFocused();
	await searchBox(page).fill(query);
}

test('search finds a message in another conversation and a reply in a thread, offline, and opens them', async ({
	page,
	context
}) => {
	// 14 more posts for the many-results check: ~1 s each on a busy machine.
	test.setTimeout(120_000);
	const tag = word();
	await onboard(page, unique('Ada'));
	const first = await newChannel(page, unique('cafe'));
	const cafe = `Le Café ${tag} est prêt`;
	await post(page, cafe, first);
	const second = await newChannel(page, unique('other'));
	const parent = `parent of the thread ${word()}`;
	await post(page, parent, second);
	const onParent = message(page, parent, second);
	await onParent.hover();
	await onParent.getByRole('button', { name: 'Reply in thread' }).click();
	const replyBox = page.getByRole('textbox', { name: 'Reply' });
	await replyBox.fill(`voilà la réponse ${tag}`);
	await replyBox.press('Enter');
	const thread = page.getByRole('complementary', { name: 'Thread' });
	await expect(thread.getByRole('article').filter({ hasText: 'voilà la réponse' })).toBeVisible();
	await thread.getByRole('button', { name: 'Close thread' }).click();

	const hostileTag = word();
	const hostile = `<img src=x onerror="window.__pwned=1"> <b>${hostileTag}</b>`;
	await post(page, hostile, second);
	// More results than the first screenful (SearchResults mounts the rest after it paints).
	const manyTag = word();
	for (let i = 1; i <= 14; i++) await post(page, `${manyTag} number ${i}`, second);

	// Everything below reads the device's own index: no network at all.
	await context.setOffline(true);

	// Accents and case do not matter; words match by prefix; matches are marked.
	await search(page, `cafe ${tag.slice(0, 4)}`);
	await expect(results(page)).toHaveCount(1);
	await expect(results(page).first()).toContainText(`#${first}`);
	await expect(results(page).first().locator('mark')).toHaveText(['Café', tag.slice(0, 4)]);
	expect(await seriousViolations(page)).toEqual([]);

	// Down reaches the results, Enter opens one: the message, scrolled to, marked and focused.
	await searchBox(page).press('ArrowDown');
	await expect(results(page).first()).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(messageLog(page, first)).toBeVisible();
	const opened = message(page, cafe, first);
	await expect(opened).toHaveAttribute('aria-current', 'true');
	await expect(opened).toBeFocused();
	await expect(opened).toBeInViewport();

	// A reply in a thread: its result says so, and opening it opens the thread on it.
	await search(page, `REPONSE ${tag}`);
	await expect(results(page)).toHaveCount(1);
	await expect(results(page).first()).toContainText('in a thread');
	await expect(results(page).first().locator('mark')).toHaveText(['réponse', tag]);
	await results(page).first().click();
	await expect(messageLog(page, second)).toBeVisible();
	const reply = thread.getByRole('article').filter({ hasText: 'voilà la réponse' });
	await expect(reply).toHaveAttribute('aria-current', 'true');
	await expect(reply).toBeFocused();

	// Results are text: markup in a message shows as written, never as HTML.
	await search(page, hostileTag);
	await expect(results(page)).toHaveCount(1);
	await expect(results(page).first()).toContainText('<img src=x onerror=');
	await expect(results(page).first().locator('mark')).toHaveText([hostileTag]);
	await expect(page.getByRole('region', { name: 'Search results' }).locator('img, b')).toHaveCount(
		0
	);
	expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

	// Every result shows, the newest first, the oldest last.
	await search(page, manyTag);
	await expect(results(page)).toHaveCount(14);
	await expect(
		page.getByRole('status').filter({ hasText: '14 messages, newest first' })
	).toBeVisible();
	await expect(results(page).first()).toContainText(`${manyTag} number 14`);
	await expect(results(page).last()).toContainText(`${manyTag} number 1`);

	// "/" reaches the box too, from anywhere but a text field.
	await messageLog(page, second).focus();
	await page.keyboard.press('/');
	await expect(searchBox(page)).toBeFocused();

	// Filters: by conversation and by author; a name that matches nobody says so.
	await search(page, `in:#${first} ${tag}`);
	await expect(results(page)).toHaveCount(1);
	await expect(results(page).first()).toContainText('Café');
	await search(page, `${tag} from:@Ada`);
	await expect(results(page)).toHaveCount(2);
	await search(page, `${tag} from:@nobody-${tag}`);
	await expect(page.getByRole('status').filter({ hasText: 'Nobody here is called' })).toBeVisible();
	await searchBox(page).press('Escape');

	// A deleted message leaves the index at once.
	await page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('link', { name: new RegExp(`^${first}`) })
		.click();
	const doomed = message(page, cafe, first);
	await doomed.hover();
	await doomed.getByRole('button', { name: 'Delete message' }).click();
	await page
		.getByRole('dialog', { name: 'Delete message?' })
		.getByRole('button', { name: 'Delete' })
		.click();
	await expect(message(page, 'This message was deleted.', first)).toHaveCount(1);
	await search(page, `cafe ${tag}`);
	await expect(page.getByRole('status').filter({ hasText: 'No messages match.' })).toBeVisible();
	await expect(results(page)).toHaveCount(0);
	await context.setOffline(false);
});

/** A second person: a browser context of their own (their own device key and storage). */
async function person(browser: Browser, name: string): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await onboard(page, name, { inGeneral: true });
	return page;
}

test('a mention offered from the members, highlighted for the person mentioned and counted apart', async ({
	browser
}) => {
	// 14 more posts for the many-results check: ~1 s each on a busy machine.
	test.setTimeout(120_000);
	const ada = unique('Ada');
	const bo = unique('Bo');
	const a = await person(browser, ada);
	const b = await person(browser, bo);
	// Bo looks elsewhere, so that #general's messages stay unread for Bo.
	await newChannel(b, unique('elsewhere'));

	const box = a.getByRole('textbox', { name: 'Message' });
	await box.pressSequentially(`ping @${bo.slice(0, 5)}`);
	const options = a.getByRole('listbox', { name: 'People to mention' });
	const option = options.getByRole('option', { name: bo });
	// Bo's joining #general reaches Ada's device through the relay: seconds on a loaded machine.
	await expect(option).toBeVisible({ timeout: 15_000 });
	await expect(box).toHaveAttribute('aria-autocomplete', 'list');
	expect(await seriousViolations(a)).toEqual([]);
	// Only the members of #general are offered, and Bo is the only one whose name starts so.
	await box.pressSequentially(bo.slice(5));
	await expect(options.getByRole('option')).toHaveCount(1);
	await expect(option).toHaveAttribute('aria-selected', 'true');
	await expect(box).toHaveAttribute('aria-activedescendant', (await option.getAttribute('id'))!);
	await box.press('Enter');
	await expect(options).toBeHidden();
	await expect(box).toHaveValue(`ping @${bo} `);
	const said = unique('look at this');
	await box.pressSequentially(said);
	await box.press('Enter');
	const sent = message(a, said, 'general');
	await expect(sent).toHaveCount(1);
	await expect(sent.locator('[data-mention]')).toHaveText(`@${bo}`);
	// Ada's own view: a chip, but no "mentions you".
	await expect(sent).not.toContainText('mentions you');

	// Bo: the sidebar counts the mention apart from the unread messages.
	const nav = b.getByRole('navigation', { name: 'Conversations' });
	const general = nav.getByRole('link', { name: /^general/ });
	await expect(general).toHaveAccessibleName(/1 mention$/);
	await expect(general).toContainText(/@\s1/);
	expect(await seriousViolations(b)).toEqual([]);
	await general.click();
	const received = message(b, said, 'general');
	await expect(received).toContainText('mentions you');
	await expect(received).toHaveClass(/mentions-me/);
	await expect(received.locator('[data-mention-self]')).toHaveText(`@${bo}`);
	expect(await seriousViolations(b)).toEqual([]);
	// Read now: the count goes.
	await expect(general).not.toHaveAccessibleName(/mention/);

	// Escape closes the suggestions without sending; Enter then sends as usual.
	const boxB = b.getByRole('textbox', { name: 'Message' });
	await boxB.pressSequentially(`@${ada}`);
	await expect(b.getByRole('listbox', { name: 'People to mention' })).toBeVisible();
	await boxB.press('Escape');
	await expect(b.getByRole('listbox', { name: 'People to mention' })).toBeHidden();
	await expect(boxB).toHaveValue(`@${ada}`);
	await a.context().close();
	await b.context().close();
});
