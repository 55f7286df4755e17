import { expect, test } from './fixtures';
import { expectNotice, message, messageLog, newChannel, onboard, post, unique } from './helpers';

test('onboarding lands in #general with the person as a member', async ({ page }) => {
	await onboard(page, 'Ada Lovelace', { inGeneral: true });
	await expect(page).toHaveURL(/\/c\/\d+$/);
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('#general');
	const nav = page.getByRole('navigation', { name: 'Conversations' });
	await expect(nav.getByRole('link', { name: 'general' })).toHaveAttribute('aria-current', 'page');
	await expect(nav.getByRole('button', { name: 'New channel' })).toBeVisible();
	await expect(nav.getByRole('button', { name: 'New direct message' })).toBeVisible();
	await expect(nav.getByText('online')).toBeVisible();
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('#general');
	await expect(page.getByRole('status', { name: 'Connection' })).toContainText('Connected');
});

test('Enter sends a message and Shift+Enter adds a line', async ({ page }) => {
	await onboard(page, 'Ada');
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill('first line');
	await box.press('Shift+Enter');
	await box.pressSequentially('second line');
	await expect(box).toHaveValue('first line\nsecond line');
	await box.press('Enter');
	const posted = message(page, 'first line');
	await expect(posted).toContainText('Ada');
	await expect(posted).toContainText('second line');
	await expect(posted.locator('br')).toHaveCount(1);
	await expect(box).toHaveValue('');

	await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
	await box.fill('sent with the button');
	await page.getByRole('button', { name: 'Send' }).click();
	await expect(message(page, 'sent with the button')).toHaveCount(1);
});

test('a person edits a message with the button and with the Up key', async ({ page }) => {
	await onboard(page, 'Ada');
	await post(page, 'teh first');
	const first = message(page, 'teh first');
	await first.hover();
	await first.getByRole('button', { name: 'Edit message' }).click();
	const editor = page.getByRole('textbox', { name: 'Edit your message' });
	await editor.fill('the first');
	await editor.press('Enter');
	await expect(message(page, 'the first')).toContainText('(edited)');

	await post(page, 'seccond');
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.press('ArrowUp');
	await expect(editor).toBeFocused();
	await editor.fill('second');
	await editor.press('Enter');
	await expect(message(page, 'second')).toContainText('(edited)');
	await expect(box).toBeFocused();
});

test('a person deletes their message', async ({ page }) => {
	await onboard(page, 'Ada');
	await post(page, 'oops, wrong channel');
	const posted = message(page, 'oops, wrong channel');
	await posted.hover();
	await posted.getByRole('button', { name: 'Delete message' }).click();
	await page
		.getByRole('dialog', { name: 'Delete message?' })
		.getByRole('button', { name: 'Delete' })
		.click();
	await expect(message(page, 'oops, wrong channel')).toHaveCount(0);
	await expect(messageLog(page)).toContainText('This message was deleted.');
});

test('a reaction toggles on and off, with its count in the chip', async ({ page }) => {
	await onboard(page, 'Ada');
	await post(page, 'ship it');
	const posted = message(page, 'ship it');
	await posted.hover();
	await posted.getByRole('button', { name: 'Add reaction' }).click();
	const picker = page.getByRole('dialog', { name: 'Choose a reaction' });
	await picker.getByRole('button', { name: '🎉', exact: true }).click();
	await expect(picker).toHaveCount(0);
	const chip = posted.getByRole('button', { name: '🎉 1' });
	await expect(chip).toHaveAttribute('aria-pressed', 'true');
	await expect(chip).toHaveAttribute('title', 'Ada reacted with 🎉');
	await chip.click();
	await expect(posted.getByRole('button', { name: /🎉/ })).toHaveCount(0);
});

test.describe('on a touch screen', () => {
	test.use({ hasTouch: true, isMobile: true, viewport: { width: 390, height: 844 } });

	test('a tap on a message brings its actions, and a reaction from there', async ({ page }) => {
		await onboard(page, 'Ada', { inGeneral: true });
		const text = unique('tap me');
		await post(page, text);
		const posted = message(page, text);
		// No toolbar on a message nobody is at; a tap is being at it.
		await expect(posted.getByRole('button', { name: 'Add reaction' })).toHaveCount(0);
		await posted.getByText(text).tap();
		await posted.getByRole('button', { name: 'Add reaction' }).tap();
		await page
			.getByRole('dialog', { name: 'Choose a reaction' })
			.getByRole('button', { name: '🎉', exact: true })
			.tap();
		await expect(posted.getByRole('button', { name: '🎉 1' })).toBeVisible();
	});
});

test('the full emoji picker loads its data from Kith itself', async ({ page }) => {
	const outside: string[] = [];
	page.on('request', (r) => {
		if (!r.url().startsWith('http://127.0.0.1')) outside.push(r.url());
	});
	await onboard(page, 'Ada');
	await post(page, 'pick one');
	const posted = message(page, 'pick one');
	await posted.hover();
	await posted.getByRole('button', { name: 'Add reaction' }).click();
	const picker = page.getByRole('dialog', { name: 'Choose a reaction' });
	await picker.getByRole('combobox', { name: 'Search' }).fill('rocket');
	await picker.getByRole('option', { name: '🚀, rocket' }).click();
	await expect(posted.getByRole('button', { name: '🚀 1' })).toHaveAttribute(
		'aria-pressed',
		'true'
	);
	expect(outside).toEqual([]);
});

test('a thread reply shows in the side panel and counts on its parent', async ({ page }) => {
	await onboard(page, 'Ada');
	await post(page, 'who takes the release?');
	const parent = message(page, 'who takes the release?');
	await parent.hover();
	await parent.getByRole('button', { name: 'Reply in thread' }).click();
	const panel = page.getByRole('complementary', { name: 'Thread' });
	await expect(panel).toContainText('who takes the release?');
	const reply = panel.getByRole('textbox', { name: 'Reply' });
	await expect(reply).toBeFocused();
	await reply.fill('I will');
	await reply.press('Enter');
	await expect(
		panel.getByRole('log', { name: 'Replies' }).getByRole('article').filter({ hasText: 'I will' })
	).toHaveCount(1);
	await expect(parent).toContainText('1 reply');
	await expect(message(page, 'I will')).toHaveCount(0);

	await reply.press('Escape');
	await expect(panel).toHaveCount(0);
	await parent.getByRole('button', { name: '1 reply' }).click();
	await expect(page.getByRole('complementary', { name: 'Thread' })).toContainText('I will');
});

test('a message full of HTML, scripts and javascript: links renders inert', async ({ page }) => {
	let dialogs = 0;
	page.on('dialog', async (d) => {
		dialogs++;
		await d.dismiss();
	});
	await onboard(page, 'Mallory');
	const evil =
		'<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) ' +
		'<a href="javascript:alert(4)">y</a> https://example.com/ok';
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(evil);
	await box.press('Enter');
	const posted = message(page, 'https://example.com/ok');
	await expect(posted).toHaveCount(1);
	await expect(posted).toContainText('<script>alert(1)</script>');
	await expect(posted.locator('script')).toHaveCount(0);
	await expect(posted.locator('img')).toHaveCount(0);
	for (const href of await posted
		.locator('a')
		.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
		expect(href ?? '').not.toMatch(/^\s*javascript:/i);
	}
	const link = posted.getByRole('link', { name: 'https://example.com/ok' });
	await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
	await expect(link).toHaveAttribute('target', '_blank');
	await page.waitForTimeout(300);
	expect(dialogs).toBe(0);
});

test('a reload keeps the profile, messages, edits, reactions and threads', async ({ page }) => {
	await onboard(page, 'Ada');
	await post(page, 'kept after reload');
	const posted = message(page, 'kept after reload');
	await posted.hover();
	await posted.getByRole('button', { name: 'Add reaction' }).click();
	await page
		.getByRole('dialog', { name: 'Choose a reaction' })
		.getByRole('button', { name: '👍', exact: true })
		.click();
	await posted.getByRole('button', { name: 'Reply in thread' }).click();
	const reply = page.getByRole('textbox', { name: 'Reply' });
	await reply.fill('a reply that stays');
	await reply.press('Enter');
	await expect(posted).toContainText('1 reply');

	await page.reload();
	const again = message(page, 'kept after reload');
	await expect(again).toContainText('Ada');
	await expect(again.getByRole('button', { name: '👍 1' })).toHaveAttribute('aria-pressed', 'true');
	await expect(again).toContainText('1 reply');
	await expect(page.getByRole('textbox', { name: 'Display name' })).toHaveCount(0);
});

test('a person creates a channel and it is listed in the sidebar', async ({ page }) => {
	await onboard(page, 'Ada');
	const nav = page.getByRole('navigation', { name: 'Conversations' });
	const design = await newChannel(page, unique('design'));
	await expect(nav.getByRole('link', { name: design })).toHaveAttribute('aria-current', 'page');
	await page.getByRole('button', { name: 'Leave channel' }).click();
	await page
		.getByRole('dialog', { name: `Leave #${design}?` })
		.getByRole('button', { name: 'Leave' })
		.click();
	await expect(nav.getByRole('link', { name: design })).toHaveCount(0);
	await expect(messageLog(page, 'general')).toBeVisible();
});

test('a refused action is explained in one alert', async ({ page }) => {
	expectNotice(/^\[notice\] Creating the channel failed: /);
	await onboard(page, 'Ada');
	await page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('button', { name: 'New channel' })
		.click();
	const dialog = page.getByRole('dialog', { name: 'New channel' });
	await dialog.getByRole('textbox', { name: 'Channel name' }).fill('   ');
	await dialog.getByRole('button', { name: 'Create channel' }).click();
	const alert = page.getByRole('alert');
	await expect(alert).toContainText('Creating the channel failed.');
	await expect(alert).toContainText('Change it and try again.');
});

test('the connection status says when the device goes offline, and posting still works', async ({
	page,
	context
}) => {
	await onboard(page, 'Ada');
	const status = page.getByRole('status', { name: 'Connection' });
	await expect(status).toContainText('Connected');
	await context.setOffline(true);
	await expect(status).toContainText('Offline');
	await post(page, 'written on the train');
	await expect(message(page, 'written on the train')).toContainText('Not yet delivered');
	await context.setOffline(false);
	await expect(status).toContainText('Connected', { timeout: 10_000 });
	await expect(message(page, 'written on the train')).toHaveCount(1);
	await expect(message(page, 'written on the train')).not.toContainText('Not yet delivered', {
		timeout: 10_000
	});
});
