import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, newChannel, onboard, unique, watchNotices } from './helpers';

async function seriousViolations(page: Page) {
	const results = await new AxeBuilder({ page }).analyze();
	return results.violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

function sidebar(page: Page) {
	return page.getByRole('navigation', { name: 'Conversations' });
}

async function postIn(page: Page, channel: string, text: string) {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(text);
	await box.press('Enter');
	await expect(message(page, text, channel)).toBeVisible();
}

async function openSettings(page: Page) {
	await sidebar(page).getByRole('link', { name: 'Settings' }).click();
	await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
	return page.getByRole('region', { name: 'Devices' });
}

test('a second browser linked from Settings is the same person: it sees the history and posts as them; signed out, it is refused', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const ada = unique('Ada');
	const a = await browser.newContext();
	const pageA = await a.newPage();
	await onboard(pageA, ada, { inGeneral: true });
	const channel = await newChannel(pageA, unique('devices'));
	const before = unique('written before linking');
	await postIn(pageA, channel, before);

	// A shows a one-time link, with its QR code and how long it stays valid.
	const devicesA = await openSettings(pageA);
	await expect(devicesA.getByRole('listitem')).toHaveCount(1);
	await expect(devicesA.getByRole('listitem')).toContainText('(This device)');
	await devicesA.getByRole('button', { name: 'Link another device' }).click();
	const linkBox = devicesA.getByRole('textbox', { name: 'One-time link for another device' });
	const url = await linkBox.inputValue();
	expect(url).toMatch(/\/link#[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
	await expect(devicesA.getByRole('img', { name: /QR code of the one-time link/ })).toBeVisible();
	await expect(devicesA.getByRole('timer')).toContainText(/Expires in (9|10):\d\d/);
	await expect(devicesA.getByRole('button', { name: 'Copy link' })).toBeVisible();
	expect(await seriousViolations(pageA)).toEqual([]);

	// B: another browser (a context of its own: its own storage, no identity yet).
	const b = await browser.newContext();
	const pageB = await b.newPage();
	watchNotices(pageB);
	await pageB.goto(url);
	await expect(pageB.getByRole('heading', { name: 'Link this device' })).toBeVisible();
	// The secret leaves the address bar at once.
	expect(new URL(pageB.url()).hash).toBe('');
	expect(await seriousViolations(pageB)).toEqual([]);
	await pageB.getByRole('button', { name: 'Link this browser' }).click();

	// B is Ada, without onboarding, and has the history.
	await expect(pageB.getByRole('log', { name: 'general' })).toBeVisible({ timeout: 15_000 });
	await expect(sidebar(pageB).getByRole('listitem').filter({ hasText: ada })).toContainText(
		'(you)'
	);
	await sidebar(pageB).getByRole('link', { name: channel }).click();
	await expect(message(pageB, before, channel)).toBeVisible();
	const fromB = unique('posted from the second device');
	await postIn(pageB, channel, fromB);

	// A sees the new device arrive, then B's message under A's own name.
	await expect(
		devicesA.getByRole('status').filter({ hasText: /Linked: .+ is now signed in as you/ })
	).toBeVisible();
	await expect(devicesA.getByRole('listitem')).toHaveCount(2);
	expect(await seriousViolations(pageA)).toEqual([]);
	await sidebar(pageA).getByRole('link', { name: channel }).click();
	const seen = message(pageA, fromB, channel);
	await expect(seen).toBeVisible();
	await expect(seen).toContainText(ada);

	// B lists both devices but, without the identity key, signs none out.
	const devicesB = await openSettings(pageB);
	await expect(devicesB.getByRole('listitem')).toHaveCount(2);
	await expect(devicesB.getByRole('button', { name: /^Sign out/ })).toHaveCount(0);
	await expect(devicesB.getByRole('button', { name: 'Link another device' })).toHaveCount(0);

	// A signs B out (with a confirmation); B is refused at once, with a clear message.
	const devicesA2 = await openSettings(pageA);
	await devicesA2.getByRole('button', { name: /^Sign out / }).click();
	await devicesA2.getByRole('button', { name: /^Yes, sign out / }).click();
	await expect(devicesA2.getByRole('listitem')).toHaveCount(1);
	const refused = pageB
		.getByRole('alert')
		.filter({ hasText: 'This device was signed out from another device.' });
	await expect(refused).toBeVisible();

	// Reopened, B stays refused; A goes on.
	await pageB.goto('/');
	await expect(refused).toBeVisible({ timeout: 15_000 });
	await sidebar(pageA).getByRole('link', { name: channel }).click();
	await postIn(pageA, channel, unique('after signing out'));
	await a.close();
	await b.close();
});

test('a link opened in a browser that already is someone is refused, and a used link says so', async ({
	browser
}) => {
	const a = await browser.newContext();
	const pageA = await a.newPage();
	await onboard(pageA, unique('Bea'), { inGeneral: true });
	const devices = await openSettings(pageA);
	await devices.getByRole('button', { name: 'Link another device' }).click();
	const url = await devices
		.getByRole('textbox', { name: 'One-time link for another device' })
		.inputValue();

	// The same browser already has an identity: linking would replace it.
	await pageA.goto(url);
	await expect(pageA.getByRole('alert')).toContainText('already has a Kith identity');

	const b = await browser.newContext();
	const pageB = await b.newPage();
	watchNotices(pageB);
	await pageB.goto(url);
	await pageB.getByRole('button', { name: 'Link this browser' }).click();
	await expect(pageB.getByRole('log', { name: 'general' })).toBeVisible({ timeout: 15_000 });

	const c = await browser.newContext();
	const pageC = await c.newPage();
	watchNotices(pageC);
	await pageC.goto(url);
	await pageC.getByRole('button', { name: 'Link this browser' }).click();
	await expect(pageC.getByRole('alert')).toContainText('already used or has expired');
	await a.close();
	await b.close();
	await c.close();
});
