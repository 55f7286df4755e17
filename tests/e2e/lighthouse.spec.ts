/**
 * Lighthouse (the npm package) against Debian's Chromium, on the built app served by the relay:
 * accessibility and best practices must score at least 95 on the first screen (onboarding) and
 * on a conversation. The performance score is printed for docs/BENCHMARKS.md, not asserted here
 * (speed lives in `npm run bench`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { expect, test } from './fixtures';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { post, unique } from './helpers';

const CHROMIUM = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : chromium.executablePath();
const FLAGS = [
	'--headless=new',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

interface Scores {
	accessibility: number;
	'best-practices': number;
	performance: number;
	failing: string[];
}

async function audit(url: string, userDataDir: string): Promise<Scores> {
	const chrome = await chromeLauncher.launch({
		chromePath: CHROMIUM,
		chromeFlags: FLAGS,
		userDataDir
	});
	try {
		const result = await lighthouse(url, {
			port: chrome.port,
			output: 'json',
			logLevel: 'error',
			onlyCategories: ['accessibility', 'best-practices', 'performance'],
			// Keep the profile: the conversation screen needs the identity made by onboarding.
			disableStorageReset: true
		});
		const lhr = result?.lhr;
		if (!lhr || lhr.runtimeError)
			throw new Error(`Lighthouse failed: ${lhr?.runtimeError?.message}`);
		const score = (id: string) => Math.round((lhr.categories[id]?.score ?? 0) * 100);
		const failing = Object.values(lhr.audits)
			.filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary')
			.map((a) => `${a.id}: ${a.title}`);
		return {
			accessibility: score('accessibility'),
			'best-practices': score('best-practices'),
			performance: score('performance'),
			failing
		};
	} finally {
		chrome.kill();
	}
}

test('Lighthouse scores accessibility and best practices at 95 or more, on onboarding and on a conversation', async ({
	baseURL
}) => {
	test.setTimeout(150_000);
	if (!baseURL) throw new Error('playwright.config.ts sets baseURL');
	const profile = mkdtempSync(join(tmpdir(), 'kith-lighthouse-'));
	try {
		const first = await audit(`${baseURL}/`, profile);
		console.log(`Lighthouse, onboarding: ${JSON.stringify(first)}`);
		expect(first.accessibility, first.failing.join('\n')).toBeGreaterThanOrEqual(95);
		expect(first['best-practices'], first.failing.join('\n')).toBeGreaterThanOrEqual(95);

		// Onboard in the same profile, with something to show, then audit the conversation.
		const context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			args: FLAGS.filter((f) => !f.startsWith('--headless')),
			headless: true,
			baseURL
		});
		const page = context.pages()[0] ?? (await context.newPage());
		await page.goto('/');
		await page.getByRole('textbox', { name: 'Display name' }).fill(unique('Lighthouse'));
		await page.getByRole('button', { name: 'Continue' }).click();
		await expect(page.getByRole('log', { name: 'general' })).toBeVisible();
		await post(page, 'Audited by Lighthouse');
		const url = page.url();
		await context.close();

		const conversation = await audit(url, profile);
		console.log(`Lighthouse, conversation: ${JSON.stringify(conversation)}`);
		expect(conversation.accessibility, conversation.failing.join('\n')).toBeGreaterThanOrEqual(95);
		expect(conversation['best-practices'], conversation.failing.join('\n')).toBeGreaterThanOrEqual(
			95
		);
	} finally {
		rmSync(profile, { recursive: true, force: true });
	}
});
