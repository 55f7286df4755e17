/**
 * The client scenarios of issue 8, each measured from outside the app (bench/client/probe.js)
 * in Debian's Chromium against the built app served by the real relay. bench/run.ts runs them
 * (`clientScenarios`); tests/relay/bench-smoke.test.ts runs them on a tiny input.
 *
 * Devices holding a big conversation are expensive to make (onboarding, then the conversation
 * stored and indexed once), so one device per size is made on first use and kept for the
 * whole run: each cold-open run is a reload of it, scrolling and posting reuse it.
 */
import { loadavg } from 'node:os';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
	ConversationKey,
	IdGenerator,
	WORKSPACE_DOC,
	conversationDocName,
	createConversation,
	localOrigin,
	setProfile,
	type MessageRecord
} from '../../src/lib/model/index.ts';
import { generateKeyPair } from '../../src/lib/sync/identity.ts';
import { getSessionToken } from '../../src/lib/sync/relay-auth.ts';
import {
	heapMB,
	newDevice,
	openConversation,
	probe,
	probeState,
	seedDevice,
	settle,
	startClientEnv,
	waitIndexed,
	waitLive,
	type ClientEnv,
	type Device,
	type Seeded
} from './browser.ts';
import { pause, phase } from '../trace.ts';
import { BOT_NAME, messageText } from './seed.ts';

/** A scenario that cannot run on this build (printed as skipped, with the reason). */
export class SkipScenario extends Error {}

/** RAIL goals from issue 8. */
export const GOALS = {
	coldOpenMs: 1000,
	longTaskMs: 50,
	keypressToPaintMs: 50,
	searchP95Ms: 50
} as const;

const FRAME_MS = 1000 / 60;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const load1 = (): number => round(loadavg()[0]!, 2);

export function quantile(values: number[], q: number): number {
	if (!values.length) return NaN;
	const s = [...values].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

interface LongTask {
	start: number;
	duration: number;
}

function longTaskSummary(tasks: LongTask[]) {
	return {
		longTasks: tasks.length,
		longestTaskMs: round(Math.max(0, ...tasks.map((t) => t.duration))),
		/** Total blocking time: the part of each long task beyond 50 ms. */
		blockingMs: round(tasks.reduce((a, t) => a + Math.max(0, t.duration - 50), 0))
	};
}

/** The browser, the relay and the devices of one bench run; closed by `close()`. */
export class ClientBench {
	#env: Promise<ClientEnv> | null = null;
	readonly #devices = new Map<number, Promise<{ device: Device; seeded: Seeded }>>();

	env(): Promise<ClientEnv> {
		this.#env ??= startClientEnv();
		return this.#env;
	}

	/** A device holding a direct message of `count` messages, indexed; offline. */
	device(count: number): Promise<{ device: Device; seeded: Seeded }> {
		let d = this.#devices.get(count);
		if (!d) {
			d = (async () => {
				const device = await newDevice(await this.env(), `Reader ${count}`);
				try {
					return { device, seeded: await seedDevice(device, count) };
				} catch (err) {
					await device.close();
					throw err;
				}
			})();
			this.#devices.set(count, d);
			d.catch(() => this.#devices.delete(count));
		}
		return d;
	}

	async close(): Promise<void> {
		for (const d of this.#devices.values()) await d.then((x) => x.device.close()).catch(() => {});
		this.#devices.clear();
		if (this.#env) await (await this.#env.catch(() => null))?.close();
		this.#env = null;
	}
}

/** 1. Cold open: reload the device onto the conversation; navigation start → newest painted. */
export async function coldOpenScenario(bench: ClientBench, opts: { messages: number }) {
	const { device, seeded } = await bench.device(opts.messages);
	const paintMs = await openConversation(device.page, seeded.convId, seeded.newestId);
	const heapAfterPaintMB = await heapMB(device.cdp);
	const seenMs = await probeState<number>(device.page, 'newestSeenAt');
	await device.cdp.send('HeapProfiler.collectGarbage');
	const heapAfterGcMB = await heapMB(device.cdp);
	const tasks = await probe<LongTask[]>(device.page, 'longTasksSince', 0);
	return {
		messages: opts.messages,
		paintMs: round(paintMs),
		inDomMs: round(seenMs),
		heapAfterPaintMB,
		heapAfterGcMB,
		...longTaskSummary(tasks.filter((t) => t.start < paintMs)),
		goalMs: GOALS.coldOpenMs,
		loadavg: load1(),
		// Not part of the figure: the next run starts from a page that has finished opening.
		settledMs: await settle(device.page)
	};
}

/**
 * 2. Scrolling up through the whole conversation by mouse wheel, `stepPx` per step, one step
 * every frame or so, from the newest message to the oldest (or until `maxSeconds`): long tasks
 * and frames (rAF deltas) meanwhile.
 */
export async function scrollScenario(
	bench: ClientBench,
	opts: {
		messages: number;
		stepPx: number;
		maxSeconds: number;
		/** For bench/client/long-tasks.ts: called once the page has settled, before scrolling. */
		beforeScroll?: () => Promise<void>;
	}
) {
	const { device, seeded } = await bench.device(opts.messages);
	const { page } = device;
	await openConversation(page, seeded.convId, seeded.newestId);
	await waitLive(page);
	await settle(page);
	await opts.beforeScroll?.();
	const log = page.getByRole('log', { name: BOT_NAME });
	const box = (await log.boundingBox())!;
	await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
	const top = (): Promise<{ scrollTop: number; scrollHeight: number }> =>
		log.evaluate((el) => ({ scrollTop: el.scrollTop, scrollHeight: el.scrollHeight }));
	const before = await top();
	const t0 = await page.evaluate(() => performance.now());
	await probe(page, 'startFrames');
	const started = Date.now();
	let steps = 0;
	for (;;) {
		await page.mouse.wheel(0, -opts.stepPx);
		steps++;
		await sleep(FRAME_MS);
		if (steps % 10 === 0 && (await top()).scrollTop === 0) break;
		if (Date.now() - started > opts.maxSeconds * 1000) break;
	}
	const seconds = (Date.now() - started) / 1000;
	const now = await top();
	const frames = await probe<number[]>(page, 'stopFrames');
	const tasks = await probe<LongTask[]>(page, 'longTasksSince', t0);
	const deltas = frames.slice(1).map((t, i) => t - frames[i]!);
	const late = deltas.filter((d) => d > 1.5 * FRAME_MS);
	return {
		messages: opts.messages,
		reachedTop: now.scrollTop === 0,
		scrolledPx: Math.round(before.scrollTop - now.scrollTop),
		steps,
		seconds: round(seconds),
		frames: frames.length,
		lateFrames: late.length,
		droppedFrames: late.reduce((a, d) => a + Math.round(d / FRAME_MS) - 1, 0),
		longestFrameMs: round(Math.max(0, ...deltas)),
		...longTaskSummary(tasks),
		goalLongTaskMs: GOALS.longTaskMs,
		loadavg: load1()
	};
}

/** 3. Posting: Enter's keydown (event.timeStamp) → the new message painted, `posts` times. */
export async function postScenario(
	bench: ClientBench,
	opts: { messages: number; posts: number; reopen?: boolean }
) {
	const { device, seeded } = await bench.device(opts.messages);
	const { page } = device;
	if (opts.reopen !== false) {
		await openConversation(page, seeded.convId, seeded.newestId);
		await waitLive(page);
		await settle(page);
	}
	const box = page.getByRole('textbox', { name: 'Message', exact: true });
	const latencies: number[] = [];
	const t0 = await page.evaluate(() => performance.now());
	for (let i = 0; i < opts.posts; i++) {
		const text = `posted ${i} ${Math.random().toString(36).slice(2, 8)}`;
		await box.fill(text);
		await probe(page, 'expectText', text);
		await box.press('Enter');
		latencies.push(await probe<number>(page, 'elapsed', 'textPaintedAt', 'enterAt', 30_000));
		await sleep(150);
	}
	const tasks = await probe<LongTask[]>(page, 'longTasksSince', t0);
	// The posts are the device's newest messages now: the next open waits for the last of them
	// (waiting for the seeded newest, 30 posts up and out of the virtual list's window, never ends).
	const last = await page.evaluate(() => {
		const rows = [...document.querySelectorAll('[role="log"] [data-key]')].filter((r) =>
			r.querySelector('article')
		);
		return rows.at(-1)?.getAttribute('data-key') ?? null;
	});
	if (last) seeded.newestId = last;
	// The index marks itself in step after 1 s without writes (src/lib/db/indexer.ts); leaving
	// before that would make the next open rebuild it.
	await pause('client: index in-step mark', 1500);
	await settle(page);
	return {
		messages: opts.messages,
		posts: latencies.length,
		p50Ms: round(quantile(latencies, 0.5)),
		p99Ms: round(quantile(latencies, 0.99)),
		maxMs: round(Math.max(...latencies)),
		samplesMs: latencies.map((l) => round(l)),
		...longTaskSummary(tasks),
		goalMs: GOALS.keypressToPaintMs,
		loadavg: load1()
	};
}

const RESULTS = 'section[aria-label="Search results"]';

/**
 * The search scenario's queries over a seeded conversation of `messages`: `m<i>` markers (a few
 * hits each, as prefixes) and pairs of common words (many hits), alternately.
 */
export function searchQueries(count: number, messages: number): string[] {
	return Array.from({ length: count }, (_, i) =>
		i % 2 === 0
			? `m${1 + ((i * 7919 + 4999) % (messages - 1))}`
			: messageText(i * 37 + 5)
					.replace(/[*`]/g, '')
					.split(' ')
					.slice(1, 3)
					.join(' ')
	);
}

/**
 * 4. Search across the conversation on the device: a query typed into the box labelled
 * "Search messages" (one input event, as a paste) → the results (links in the "Search
 * results" region) changed and painted. The box searches a first input at once (it waits only
 * while a search of earlier text runs), so nothing is subtracted.
 * Queries: `m<i>` markers (a few hits each, as prefixes) and pairs of common words (many
 * hits), after one first search that is shown apart (it warms what later ones reuse).
 */
export async function searchScenario(
	bench: ClientBench,
	opts: { messages: number; queries: number }
) {
	const { device, seeded } = await bench.device(opts.messages);
	const { page } = device;
	await openConversation(page, seeded.convId, seeded.newestId);
	await waitLive(page);
	await settle(page);
	const field = page.getByRole('searchbox', { name: 'Search messages' });
	if (!(await field.count()))
		throw new SkipScenario(
			'this build has no search box labelled "Search messages" (search is not merged yet)'
		);
	const queries = searchQueries(opts.queries, opts.messages);
	const measure = async (q: string): Promise<number> => {
		await field.fill('');
		await page.waitForFunction((sel) => !document.querySelector(`${sel} a`), RESULTS, {
			timeout: 10_000
		});
		await sleep(200);
		await probe(page, 'expectResults', RESULTS);
		await field.fill(q);
		return probe<number>(page, 'elapsed', 'resultsPaintedAt', 'inputAt', 30_000);
	};
	// The first search after opening the app warms what later ones reuse: shown apart.
	const firstQueryMs = round(await measure('ships tomorrow'));
	const latencies: number[] = [];
	for (const q of queries) latencies.push(await measure(q));
	await field.fill('');
	return {
		messages: opts.messages,
		queries: latencies.length,
		p50Ms: round(quantile(latencies, 0.5)),
		p95Ms: round(quantile(latencies, 0.95)),
		maxMs: round(Math.max(...latencies)),
		firstQueryMs,
		samples: queries.map((q, i) => ({ query: q, ms: round(latencies[i]!) })),
		goalMs: GOALS.searchP95Ms,
		loadavg: load1()
	};
}

/** Syncs a document with the relay as a plain y-websocket client; resolves once synced. */
async function connectBot(env: ClientEnv, name: string, token: string, doc: Y.Doc) {
	const provider = new WebsocketProvider(`${env.base.replace('http', 'ws')}/sync`, name, doc, {
		params: { token },
		WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
		disableBc: true
	});
	await new Promise<void>((resolve, reject) => {
		// A provider left behind would reconnect for ever and keep the bench from exiting.
		const timer = setTimeout(() => {
			provider.destroy();
			reject(new Error(`${name}: no sync within 60 s`));
		}, 60_000);
		provider.once('sync', () => {
			clearTimeout(timer);
			resolve();
		});
	});
	return provider;
}

/** Waits until the relay holds `count` messages of a conversation (read by a fresh client). */
async function relayHolds(env: ClientEnv, name: string, token: string, count: number) {
	const started = Date.now();
	for (;;) {
		const doc = new Y.Doc();
		const p = await connectBot(env, name, token, doc);
		const n = doc.getArray(ConversationKey.messages).length;
		p.destroy();
		doc.destroy();
		if (n >= count) return;
		if (Date.now() - started > 120_000) throw new Error(`the relay holds ${n} of ${count}`);
		await sleep(500);
	}
}

/**
 * 5. Catch-up: a device with the conversation open goes offline; the bot sends `messages` new
 * messages through the relay (one update each); the device comes back online. From the
 * browser's `online` event: the newest message painted, the UI responsive (the end of the last
 * long task, once 1 s passes with none), every message indexed (Dexie's `messages` count).
 */
export async function catchUpScenario(
	bench: ClientBench,
	opts: {
		messages: number;
		history: number;
		maxSeconds: number;
		/** For bench/client/profile.ts: around the time from online to caught up. */
		hooks?: { beforeOnline(d: Device): Promise<void>; afterCaughtUp(d: Device): Promise<void> };
	}
) {
	const env = await bench.env();
	const device = await newDevice(env, 'Returning');
	// Destroyed however the run ends: an open provider keeps the bench process from exiting.
	let provider: WebsocketProvider | null = null;
	try {
		const { page, context } = device;
		const bot = generateKeyPair();
		const { token } = await getSessionToken(env.base, bot, { ttlSeconds: 3600 });
		const ws = new Y.Doc();
		setProfile(ws, { user_id: bot.userId, display_name: BOT_NAME, color: '#0f766e' });
		(await connectBot(env, WORKSPACE_DOC, token, ws)).destroy();

		// The conversation as the device last saw it: `history` messages.
		const doc = new Y.Doc();
		const meta = createConversation(doc, {
			kind: 'dm',
			created_by: bot.userId,
			members: [device.user]
		});
		const name = conversationDocName(meta.id);
		let t = Date.now() - 3600_000;
		const ids = new IdGenerator(() => t);
		const messages = doc.getArray<MessageRecord>(ConversationKey.messages);
		const record = (content: string): MessageRecord => ({
			id: ids.next(),
			created_at: new Date(t).toISOString(),
			content,
			created_by: bot.userId,
			conversation_id: meta.id,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null
		});
		let last = '';
		doc.transact(() => {
			const rs: MessageRecord[] = [];
			for (let i = 1; i <= opts.history; i++) rs.push(record((last = messageText(i))));
			messages.push(rs);
		}, localOrigin('post'));
		provider = await phase('catch-up: history open and indexed', async () => {
			provider = await connectBot(env, name, token, doc);
			await relayHolds(env, name, token, opts.history);
			await page.goto(`/c/${meta.id}`);
			await page
				.getByRole('log', { name: BOT_NAME })
				.getByRole('article')
				.filter({ hasText: last })
				.first()
				.waitFor({ timeout: 60_000 });
			await waitIndexed(page, meta.id, opts.history, 60_000);
			return provider;
		});

		// Away: the device offline, the bot writes, one message per update.
		await context.setOffline(true);
		await pause('catch-up: offline settle', 500);
		const total = opts.history + opts.messages;
		const newest = `m${total} the newest message after the time away`;
		await phase('catch-up: the bot writes through the relay', async () => {
			for (let i = opts.history + 1; i <= total; i++) {
				t += 1000;
				const content = i === total ? newest : messageText(i);
				doc.transact(
					() => messages.insert(messages.length, [record(content)]),
					localOrigin('post')
				);
				if (i % 500 === 0) await sleep(0);
			}
			await relayHolds(env, name, token, total);
		});
		provider.destroy();
		provider = null;
		await pause('catch-up: offline settle', 500);

		await probe(page, 'expectText', newest);
		await probe(page, 'watchIndexed', meta.id, total, 100);
		await opts.hooks?.beforeOnline(device);
		await context.setOffline(false);
		const started = Date.now();
		type State = {
			onlineAt: number | null;
			textPaintedAt: number | null;
			indexed: { at: number | null; count: number };
			now: number;
		};
		let s: State;
		let tasks: LongTask[] = [];
		for (;;) {
			await sleep(250);
			s = await page.evaluate(() => {
				const b = (window as unknown as { __bench: Omit<State, 'now'> }).__bench;
				return {
					onlineAt: b.onlineAt,
					textPaintedAt: b.textPaintedAt,
					indexed: b.indexed,
					now: performance.now()
				};
			});
			if (s.onlineAt === null) continue;
			tasks = await probe<LongTask[]>(page, 'longTasksSince', s.onlineAt);
			const lastEnd = Math.max(s.onlineAt, ...tasks.map((x) => x.start + x.duration));
			const quiet = s.now - lastEnd >= 1000;
			if (quiet && s.indexed.at !== null && s.textPaintedAt !== null) break;
			if (Date.now() - started > opts.maxSeconds * 1000)
				throw new Error(
					`catch-up not done in ${opts.maxSeconds} s: ${s.indexed.count} of ${total} indexed, newest ${s.textPaintedAt === null ? 'not ' : ''}painted`
				);
		}
		await opts.hooks?.afterCaughtUp(device);
		const onlineAt = s.onlineAt!;
		const lastEnd = Math.max(onlineAt, ...tasks.map((x) => x.start + x.duration));
		doc.destroy();
		ws.destroy();
		return {
			messages: opts.messages,
			newestPaintedMs: round(s.textPaintedAt! - onlineAt),
			responsiveMs: round(lastEnd - onlineAt),
			indexedMs: round(s.indexed.at! - onlineAt),
			...longTaskSummary(tasks),
			heapMB: await heapMB(device.cdp),
			loadavg: load1()
		};
	} finally {
		provider?.destroy();
		await device.close();
	}
}
