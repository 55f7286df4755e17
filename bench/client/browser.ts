/**
 * The client scenarios' environment: the built app served by the real relay (as `npm start`
 * runs it: bench/relays.ts; fresh DATA_DIR, free port), Debian's Chromium launched by
 * Playwright with the flags of playwright.config.ts, and devices (browser contexts) onboarded
 * through the UI, then given a big conversation straight into IndexedDB.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	chromium,
	type Browser,
	type BrowserContext,
	type CDPSession,
	type Page
} from '@playwright/test';
import * as Y from 'yjs';
import { WORKSPACE_DOC, fromBase64Url, userIdFromPublicKey } from '../../src/lib/model/index.ts';
import { generateKeyPair, type DeviceKeyPair } from '../../src/lib/sync/identity.ts';
import { ensureBuilt } from '../../sync-server/build.ts';
import type { Logger } from '../../sync-server/log.ts';
import { startRelay, type Relay } from '../relays.ts';
import { phase, pause } from '../trace.ts';
import { botProfileUpdate, seedDirectMessage, type SeededConversation } from './seed.ts';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** The flags of playwright.config.ts. */
export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];
const PROBE = readFileSync(fileURLToPath(new URL('probe.js', import.meta.url)), 'utf8');

export interface ClientEnv {
	relay: Relay;
	browser: Browser;
	base: string;
	close(): Promise<void>;
}

const quietLog = {
	info: (obj: unknown, msg?: string) => console.log(`bench: ${msg ?? JSON.stringify(obj)}`)
} as unknown as Logger;

/** Builds the app if stale (as `npm start` would), starts the relay serving it, launches Chromium. */
export async function startClientEnv(): Promise<ClientEnv> {
	await phase('client: vite build check', () => ensureBuilt(resolve('build'), quietLog));
	// Kith as shipped (durable); its abuse limits raised as for every bench relay (the catch-up
	// bot posts 10,000 messages at once).
	const relay = await startRelay('kith', { env: { SERVE_APP: '1' } });
	let browser: Browser;
	try {
		browser = await phase('client: launch Chromium', () =>
			chromium.launch({
				...(existsSync(DEBIAN_CHROMIUM) ? { executablePath: DEBIAN_CHROMIUM } : {}),
				args: CHROMIUM_ARGS
			})
		);
	} catch (err) {
		await relay.stop();
		throw err;
	}
	return {
		relay,
		browser,
		base: relay.http,
		async close() {
			await browser.close().catch(() => undefined);
			await relay.stop();
		}
	};
}

/** The probe's API in the page (bench/client/probe.js). */
export type ProbeFn =
	| 'expectText'
	| 'elapsed'
	| 'expectResults'
	| 'startFrames'
	| 'stopFrames'
	| 'longTasksSince'
	| 'addChunk'
	| 'storeChunks'
	| 'storeDeliveredVector'
	| 'countIndexed'
	| 'watchIndexed';

/** Calls one of the probe's functions in the page. */
export function probe<T = unknown>(page: Page, fn: ProbeFn, ...args: unknown[]): Promise<T> {
	return page.evaluate(
		([f, a]) =>
			(window as unknown as { __bench: Record<string, (...x: unknown[]) => unknown> }).__bench[f]!(
				...a
			),
		[fn, args] as const
	) as Promise<T>;
}

/** Reads one field of the probe's state. */
export function probeState<T = unknown>(page: Page, key: string): Promise<T> {
	return page.evaluate(
		(k) => (window as unknown as { __bench: Record<string, unknown> }).__bench[k],
		key
	) as Promise<T>;
}

export interface Device {
	context: BrowserContext;
	page: Page;
	cdp: CDPSession;
	/** The person's user id (from their device key). */
	user: string;
	close(): Promise<void>;
}

/** A fresh browser context onboarded as a new person; the service worker controls the page. */
export function newDevice(env: ClientEnv, name: string): Promise<Device> {
	return phase('client: onboard a device', () => onboard(env, name));
}

async function onboard(env: ClientEnv, name: string): Promise<Device> {
	const context = await env.browser.newContext({
		baseURL: env.base,
		viewport: { width: 1280, height: 720 }
	});
	await context.addInitScript({ content: PROBE });
	const page = await context.newPage();
	// A notice is the app telling the person something failed (src/lib/state/errors.svelte.ts):
	// a measurement taken meanwhile is of a broken app, so say so (one was, 2026-11-26: the
	// ResizeObserver notice while scrolling).
	page.on('console', (m) => {
		if (m.type() === 'error' && m.text().startsWith('[notice] '))
			console.log(`bench: ${name}'s app showed an error notice: ${m.text().slice(0, 500)}`);
	});
	await page.goto('/');
	await page.getByRole('textbox', { name: 'Display name' }).fill(name);
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.getByRole('log', { name: 'general' }).waitFor({ timeout: 30_000 });
	await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
		timeout: 30_000
	});
	const stored = await page.evaluate(() => localStorage.getItem('kith:device-key'));
	const { public_key } = JSON.parse(stored!) as { public_key: string };
	const user = userIdFromPublicKey(fromBase64Url(public_key)!);
	const cdp = await context.newCDPSession(page);
	await cdp.send('Performance.enable');
	return {
		context,
		page,
		cdp,
		user,
		async close() {
			await context.close().catch(() => undefined);
		}
	};
}

/** Stores a Yjs update in a document's IndexedDB database on the device, in 4 MB pieces. */
export async function storeUpdate(page: Page, docName: string, update: Uint8Array): Promise<void> {
	const b64 = Buffer.from(update.buffer, update.byteOffset, update.byteLength).toString('base64');
	const piece = 4 * 1024 * 1024;
	for (let i = 0; i < b64.length; i += piece)
		await probe(page, 'addChunk', b64.slice(i, i + piece));
	await probe(page, 'storeChunks', docName);
}

export interface Seeded extends SeededConversation {
	bot: DeviceKeyPair;
}

/**
 * Puts a direct message of `count` messages with a bot on an offline device, opens it once
 * (the app builds its index then) and waits until the index holds every message.
 */
export async function seedDevice(device: Device, count: number): Promise<Seeded> {
	const { page, context } = device;
	const bot = generateKeyPair();
	const { seeded, update, vector } = await phase('client seed: build in Node', () => {
		const seeded = seedDirectMessage(bot.userId, device.user, count);
		const update = Y.encodeStateAsUpdate(seeded.doc);
		const vector = Buffer.from(Y.encodeStateVector(seeded.doc)).toString('base64');
		seeded.doc.destroy();
		return { seeded, update, vector };
	});
	// Offline from here on: the relay would refuse writes that are not the person's own, and
	// the scenarios measure the device alone.
	await context.setOffline(true);
	await phase('client seed: store in IndexedDB', async () => {
		await storeUpdate(page, seeded.docName, update);
		await storeUpdate(page, WORKSPACE_DOC, botProfileUpdate(bot.userId));
		// Everything here was delivered before: the relay's acknowledgement, as the app keeps it.
		await probe(page, 'storeDeliveredVector', seeded.docName, vector);
	});
	await phase('client seed: first open and index', async () => {
		await openConversation(page, seeded.convId, seeded.newestId);
		// BENCH_INDEX_TIMEOUT_MS: on a loaded machine indexing 100,000 messages takes over 5 min.
		await waitIndexed(
			page,
			seeded.convId,
			count,
			Number(process.env.BENCH_INDEX_TIMEOUT_MS ?? 300_000)
		);
	});
	// The index marks itself in step after 1 s without writes (src/lib/db/indexer.ts); a reload
	// before that would rebuild it on the next open.
	await pause('client: index in-step mark', 1500);
	await settle(page);
	return { ...seeded, bot };
}

/** Navigates to a conversation and waits until its newest message is painted; returns the time. */
export async function openConversation(
	page: Page,
	convId: string,
	newestId: string,
	timeoutMs = 120_000
): Promise<number> {
	await page.evaluate((id) => sessionStorage.setItem('bench:newest', id), newestId);
	const url = `/c/${convId}`;
	if (new URL(page.url()).pathname === url) await page.reload({ waitUntil: 'commit' });
	else await page.goto(url, { waitUntil: 'commit' });
	const handle = await page.waitForFunction(
		() =>
			(window as unknown as { __bench?: { newestPaintedAt: number | null } }).__bench
				?.newestPaintedAt,
		null,
		{ timeout: timeoutMs, polling: 50 }
	);
	return (await handle.jsonValue()) as number;
}

/**
 * Waits until the open conversation shows its document, not the index's first page (the view
 * is `aria-busy` until then: docs/ARCHITECTURE.md, "Index first"). Scrolling, posting and
 * searching measure the conversation once open; before that it holds one page.
 */
export async function waitLive(page: Page, timeoutMs = 120_000): Promise<void> {
	await page
		.locator('section.conversation[aria-busy="false"]')
		.waitFor({ state: 'attached', timeout: timeoutMs });
}

export async function waitIndexed(
	page: Page,
	convId: string,
	expected: number,
	timeoutMs: number
): Promise<number> {
	const start = Date.now();
	for (;;) {
		const n = await probe<number>(page, 'countIndexed', convId);
		if (n >= expected) return Date.now() - start;
		if (Date.now() - start > timeoutMs)
			throw new Error(`index holds ${n} of ${expected} messages after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

/** The page's JS heap in use (CDP Performance.getMetrics), MB. */
export async function heapMB(cdp: CDPSession): Promise<number> {
	const { metrics } = await cdp.send('Performance.getMetrics');
	const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
	return Math.round(used / 1e5) / 10;
}

/**
 * Waits until the page has run no long task for `quietMs` (at most `maxMs`): the app's work
 * after an open (an index check, a rebuild in the background) is over, so what follows is
 * measured in a steady state. Returns how long it waited.
 */
export function settle(page: Page, quietMs = 1000, maxMs = 120_000): Promise<number> {
	return phase('client: settle', () => quiet(page, quietMs, maxMs));
}

async function quiet(page: Page, quietMs: number, maxMs: number): Promise<number> {
	const started = Date.now();
	for (;;) {
		const { now, tasks } = await page.evaluate(() => {
			const b = (
				window as unknown as { __bench: { longTasks: Array<{ start: number; duration: number }> } }
			).__bench;
			return { now: performance.now(), tasks: b.longTasks.slice(-1) };
		});
		const lastEnd = Math.max(0, ...tasks.map((t) => t.start + t.duration));
		if (now - lastEnd >= quietMs || Date.now() - started > maxMs) return Date.now() - started;
		await new Promise((r) => setTimeout(r, Math.max(50, quietMs - (now - lastEnd))));
	}
}
