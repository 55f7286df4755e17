import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { message, messageLog, newChannel, onboard, post, unique } from './helpers';

test.describe('Kith as an installable, offline app', () => {
	test('Chromium finds the page installable, with a complete manifest', async ({
		browser
	}, testInfo) => {
		// Chromium never offers to install from an incognito profile, and Playwright's contexts
		// are incognito: this test runs in a profile on disk.
		const { launchOptions, baseURL } = testInfo.project.use;
		const profile = mkdtempSync(join(tmpdir(), 'kith-profile-'));
		const context = await browser.browserType().launchPersistentContext(profile, {
			...launchOptions,
			...(baseURL ? { baseURL } : {})
		});
		try {
			const page = context.pages()[0] ?? (await context.newPage());
			await page.goto('/');
			await expect(page.getByRole('textbox', { name: 'Display name' })).toBeVisible();
			const response = await page.request.get('/manifest.webmanifest');
			expect(response.headers()['content-type']).toBe('application/manifest+json');

			const cdp = await context.newCDPSession(page);
			// Chromium fetches the manifest and icons lazily: ask until it has an answer.
			await expect
				.poll(
					async () => {
						const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
						return installabilityErrors.map((e) => e.errorId);
					},
					{ timeout: 10_000 }
				)
				.toEqual([]);
			const { data } = await cdp.send('Page.getAppManifest');
			const manifest = JSON.parse(data ?? '{}') as {
				display?: string;
				icons?: { sizes: string; purpose?: string }[];
			};
			expect(manifest.display).toBe('standalone');
			expect(manifest.icons?.map((i) => `${i.sizes} ${i.purpose ?? 'any'}`)).toEqual([
				'192x192 any',
				'512x512 any',
				'512x512 maskable'
			]);
			for (const path of ['/icon-192.png', '/icon-512.png', '/icon-maskable-512.png']) {
				const icon = await page.request.get(path);
				expect(icon.headers()['content-type']).toBe('image/png');
			}
		} finally {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		}
	});

	test('with the network gone, a reload opens the app from the service worker and shows the conversation', async ({
		page,
		context
	}) => {
		await onboard(page, unique('Offline'));
		const text = unique('kept on this device');
		await post(page, text);
		// A reaction and a thread reply, to be there offline too.
		const posted = message(page, text);
		await posted.hover();
		await posted.getByRole('button', { name: 'Add reaction' }).click();
		await page
			.getByRole('dialog', { name: 'Choose a reaction' })
			.getByRole('button', { name: '🎉', exact: true })
			.click();
		await posted.getByRole('button', { name: 'Reply in thread' }).click();
		const reply = unique('a reply in its thread');
		await page.getByRole('textbox', { name: 'Reply' }).fill(reply);
		await page.getByRole('textbox', { name: 'Reply' }).press('Enter');
		await expect(posted).toContainText('1 reply');
		await page.getByRole('button', { name: 'Close thread' }).click();
		const channel = page.url();
		// The service worker has installed and precached the shell.
		await page.evaluate(async () => {
			await navigator.serviceWorker.ready;
		});

		await context.setOffline(true);
		try {
			const response = await page.reload();
			expect(response?.fromServiceWorker()).toBe(true);
			expect(page.url()).toBe(channel);
			await expect(message(page, text)).toBeVisible();
			await expect(messageLog(page)).toBeVisible();
			await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();

			// A cold start: a new window, still offline, straight onto the conversation.
			await page.close();
			const cold = await context.newPage();
			const coldResponse = await cold.goto(channel);
			expect(coldResponse?.fromServiceWorker()).toBe(true);
			await expect(message(cold, text)).toBeVisible();
			const coldPosted = message(cold, text);
			await expect(coldPosted.getByRole('button', { name: '🎉 1' })).toBeVisible();
			await coldPosted.getByRole('button', { name: '1 reply' }).click();
			await expect(cold.getByRole('complementary').getByText(reply)).toBeVisible();
			// And answered, still offline: kept on the device until the relay is back.
			const answer = unique('answered offline');
			await cold.getByRole('textbox', { name: 'Reply' }).fill(answer);
			await cold.getByRole('textbox', { name: 'Reply' }).press('Enter');
			await expect(cold.getByRole('complementary').getByText(answer)).toBeVisible();
			await expect(coldPosted).toContainText('2 replies');
		} finally {
			await context.setOffline(false);
		}
	});

	test('a new version is offered with "Reload to update", and updating keeps the messages and the draft', async ({
		page
	}) => {
		await onboard(page, unique('Updater'));
		const text = unique('posted before the update');
		await post(page, text);
		// The first version controls the page (it claims it on activation).
		await expect
			.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
			.toBe(true);
		const draft = unique('half written');
		await page.getByRole('textbox', { name: 'Message' }).fill(draft);

		// A new version on the relay: any byte of the service worker changed. Browser tests run
		// one at a time (playwright.config.ts), and the file is restored before the next one.
		const file = join(process.cwd(), 'build', 'service-worker.js');
		const original = readFileSync(file, 'utf8');
		writeFileSync(file, `${original}\n// ${unique('next version')}\n`);
		const notice = page.getByRole('status').filter({ hasText: 'A new version of Kith is ready' });
		try {
			await page.evaluate(async () => {
				await (await navigator.serviceWorker.ready).update();
			});
			await expect(notice).toBeVisible();
			const reloaded = page.waitForEvent('load');
			await notice.getByRole('button', { name: 'Reload to update' }).click();
			await reloaded;
		} finally {
			writeFileSync(file, original);
		}
		await expect(message(page, text)).toBeVisible();
		await expect(page.getByRole('textbox', { name: 'Message' })).toHaveValue(draft);
		await expect(notice).toHaveCount(0);
	});

	test('a draft is kept per conversation and survives a reload', async ({ page }) => {
		await onboard(page, unique('Drafter'));
		const first = page.url();
		const draft = unique('not sent yet');
		const box = page.getByRole('textbox', { name: 'Message' });
		await box.fill(draft);

		await newChannel(page, unique('other'));
		await expect(box).toHaveValue('');
		const other = unique('another draft');
		await box.fill(other);

		await page.goto(first);
		await expect(box).toHaveValue(draft);
		await page.reload();
		await expect(box).toHaveValue(draft);
		await page.goBack();
		await expect(box).toHaveValue(other);
	});

	test('two tabs of one person stay in step, offline too, and a reload of each keeps everything', async ({
		page,
		context
	}) => {
		await onboard(page, unique('Twotabs'));
		const channel = page.url();
		const second = await context.newPage();
		await second.goto(channel);
		await expect(messageLog(second)).toBeVisible();

		const online = unique('from tab one');
		await post(page, online);
		await expect(message(second, online)).toHaveCount(1);

		// No relay to carry anything between them: the tabs talk to each other directly.
		await context.setOffline(true);
		const offline = unique('from tab two, offline');
		await post(second, offline);
		await expect(message(page, offline)).toHaveCount(1);
		const posted = message(page, offline);
		await posted.hover();
		await posted.getByRole('button', { name: 'Add reaction' }).click();
		await page
			.getByRole('dialog', { name: 'Choose a reaction' })
			.getByRole('button', { name: '🎉', exact: true })
			.click();
		await expect(message(second, offline).getByRole('button', { name: '🎉 1' })).toBeVisible();

		// Both wrote to the same IndexedDB: each reload reads one consistent copy.
		for (const tab of [page, second]) {
			await tab.reload();
			await expect(message(tab, online)).toHaveCount(1);
			await expect(message(tab, offline).getByRole('button', { name: '🎉 1' })).toBeVisible();
		}
		await context.setOffline(false);
		await second.close();
	});

	test('after onboarding, Kith asks once for persistent storage', async ({ page }) => {
		await page.addInitScript(() => {
			const persist = StorageManager.prototype.persist;
			StorageManager.prototype.persist = function () {
				localStorage.setItem(
					'test:persist-calls',
					String(Number(localStorage.getItem('test:persist-calls')) + 1)
				);
				return persist.call(this);
			};
		});
		const calls = () => page.evaluate(() => Number(localStorage.getItem('test:persist-calls')));
		await page.goto('/');
		await expect(page.getByRole('textbox', { name: 'Display name' })).toBeVisible();
		expect(await calls()).toBe(0);
		await onboard(page, unique('Keeper'));
		await expect.poll(calls).toBe(1);
		await page.reload();
		await expect(messageLog(page)).toBeVisible();
		expect(await calls()).toBe(1);
	});

	test('with the relay stopped, a new window opens the app and the conversations from the device', async ({
		browser
	}) => {
		// A relay of this test's own (the shared one must keep running), serving the same build.
		const port = await freePort();
		const dataDir = mkdtempSync(join(tmpdir(), 'kith-cold-'));
		const relay = await ownRelay(port, dataDir);
		const context = await browser.newContext({ baseURL: relay.origin });
		try {
			let page: Page = await context.newPage();
			await onboard(page, unique('Cold'));
			const text = unique('stored here');
			await post(page, text);
			const channel = page.url();
			await expect
				.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
				.toBe(true);

			relay.proc.kill('SIGTERM');
			await relay.exited;
			await page.close();
			page = await context.newPage();
			const response = await page.goto(channel);
			expect(response?.fromServiceWorker()).toBe(true);
			await expect(message(page, text)).toBeVisible();
			await expect(
				page.getByRole('navigation', { name: 'Conversations' }).getByText('general')
			).toBeVisible();
			// And it can be answered: the reply is kept on the device until the relay is back.
			await post(page, unique('written while the relay is down'));
		} finally {
			await context.close();
			if (relay.proc.exitCode === null) relay.proc.kill('SIGKILL');
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	test('a message is never shown as sent when the relay dies before storing it, and is sent once a relay is back', async ({
		browser
	}) => {
		test.setTimeout(60_000);
		const port = await freePort();
		const dataDir = mkdtempSync(join(tmpdir(), 'kith-killed-'));
		let relay = await ownRelay(port, dataDir);
		const context = await browser.newContext({ baseURL: relay.origin });
		try {
			const page = await context.newPage();
			await onboard(page, unique('Witness'));
			const stored = unique('stored before');
			await post(page, stored);
			await expect(message(page, stored)).not.toContainText('Not yet delivered');

			// Frozen, the relay's socket still takes the bytes, but nothing is stored or answered;
			// then it dies without ever seeing them.
			relay.proc.kill('SIGSTOP');
			const lost = unique('sent into a frozen relay');
			await post(page, lost);
			await page.waitForTimeout(1_000);
			await expect(message(page, lost)).toContainText('Not yet delivered');
			relay.proc.kill('SIGKILL');
			await relay.exited;
			await page.waitForTimeout(1_000);
			await expect(message(page, lost)).toContainText('Not yet delivered');

			// A relay on the same storage: the device sends what it lacks, and only then is it sent.
			relay = await ownRelay(port, dataDir);
			await expect(message(page, lost)).not.toContainText('Not yet delivered', {
				timeout: 20_000
			});
			await page.reload();
			await expect(message(page, lost)).not.toContainText('Not yet delivered', {
				timeout: 20_000
			});
			await expect(message(page, stored)).toHaveCount(1);
		} finally {
			await context.close();
			if (relay.proc.exitCode === null) relay.proc.kill('SIGKILL');
			rmSync(dataDir, { recursive: true, force: true });
		}
	});
});

/** A relay of the test's own on `port`, serving the same build; resolves once healthy. */
async function ownRelay(port: number, dataDir: string) {
	const proc = spawn(process.execPath, ['--import', 'tsx', 'sync-server/main.ts'], {
		env: {
			...process.env,
			PORT: String(port),
			HOST: '127.0.0.1',
			DATA_DIR: dataDir,
			LOG_LEVEL: 'warn'
		},
		stdio: 'ignore'
	});
	const exited = once(proc, 'exit');
	const origin = `http://127.0.0.1:${port}`;
	await expect
		.poll(async () => (await fetch(`${origin}/healthz`).catch(() => null))?.ok ?? false, {
			timeout: 20_000
		})
		.toBe(true);
	return { proc, exited, origin };
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}
