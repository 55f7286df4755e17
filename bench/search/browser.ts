/**
 * The browser half of the search benchmark (bench/search/run.ts bundles it with esbuild): the
 * real `KithDb`, `withWords` and `searchMessages` in Chromium's IndexedDB.
 */
import {
	KithDb,
	searchMessages,
	putVocabulary,
	rememberVocabulary,
	withWords,
	type MessageIndexRow
} from '../../src/lib/db';
import { IdGenerator, parseQuery } from '../../src/lib/model';
import { messageText } from '../client/seed';

declare global {
	interface Window {
		kithBench: {
			fill(n: number, seed: number): Promise<{ ms: number; vocabulary: string[] }>;
			fillClient(n: number): Promise<{ ms: number; reused: boolean }>;
			query(
				q: string,
				conversations?: string[]
			): Promise<{ ms: number; found: number; requests: number; rounds: number }>;
		};
	}
}

let db: KithDb | null = null;

// Every IndexedDB request the page makes, with its depth: one more than the deepest request
// answered before it was made (the round trips a query waits for, one after the other).
const requests = { count: 0, answered: 0, deepest: 0 };
function countRequests(proto: object, names: string[]): void {
	for (const name of names) {
		const target = proto as Record<string, (...args: unknown[]) => IDBRequest>;
		const original = target[name]!;
		target[name] = function (this: unknown, ...args: unknown[]) {
			const req = original.apply(this, args);
			const depth = requests.answered + 1;
			requests.count++;
			req.addEventListener('success', () => {
				requests.answered = Math.max(requests.answered, depth);
				requests.deepest = Math.max(requests.deepest, depth);
			});
			return req;
		};
	}
}
const READS = ['get', 'getAll', 'getAllKeys', 'getKey', 'count', 'openCursor', 'openKeyCursor'];
countRequests(IDBObjectStore.prototype, READS);
countRequests(IDBIndex.prototype, READS);

function rng(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = s;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A top-level message's index row with nothing but text. */
function row(
	id: string,
	created_at: string,
	content: string,
	created_by: string,
	conversation_id: string
): MessageIndexRow {
	return {
		id,
		created_at,
		content,
		created_by,
		reactions: {},
		conversation_id,
		file_attachments: [],
		parent_message_id: null,
		audio_url: null,
		edited_at: null,
		deleted: false
	};
}

/** Stores rows and their words as the app's indexer does (one transaction per batch). */
async function store(target: KithDb, rows: MessageIndexRow[]): Promise<void> {
	const stored = rows.map(withWords);
	const words = await target.transaction('rw', [target.messages, target.search_words], async () => {
		await target.messages.bulkPut(stored);
		return putVocabulary(target, stored);
	});
	rememberVocabulary(target, words);
}

window.kithBench = {
	async fill(n, seed) {
		const random = rng(seed);
		const letters = 'abcdefghijklmnopqrstuvwxyzéèàç';
		const vocabulary: string[] = [];
		for (let i = 0; i < 5_000; i++) {
			let w = '';
			const len = 3 + Math.floor(random() * 7);
			for (let k = 0; k < len; k++) w += letters[Math.floor(random() * letters.length)];
			vocabulary.push(w);
		}
		// Zipf-like: low ranks are common ("the", "and"), high ranks rare.
		const pick = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)]!;
		db = new KithDb('bench-search');
		await db.delete();
		db = new KithDb('bench-search');
		const start = performance.now();
		const t0 = Date.UTC(2026, 0, 1);
		for (let i = 0; i < n; i += 1_000) {
			const rows: MessageIndexRow[] = [];
			for (let j = i; j < Math.min(n, i + 1_000); j++) {
				const words = Array.from({ length: 6 + Math.floor(random() * 12) }, pick);
				rows.push(
					row(
						String(1_000_000_000 + j),
						new Date(t0 + j * 1_000).toISOString(),
						words.join(' '),
						`user${Math.floor(random() * 50)}`,
						String(7_000 + Math.floor(random() * 20))
					)
				);
			}
			await store(db, rows);
		}
		return { ms: performance.now() - start, vocabulary };
	},
	/**
	 * The client bench's conversation (bench/client/seed.ts): one direct message of `n` messages
	 * over 100 days, `messageText(i)` each, two authors. Kept across runs of the same profile.
	 */
	async fillClient(n) {
		const name = `bench-search-client-${n}`;
		db = new KithDb(name);
		if ((await db.messages.count()) === n) return { ms: 0, reused: true };
		await db.delete();
		db = new KithDb(name);
		const start = performance.now();
		const end = Date.UTC(2026, 10, 25);
		const span = 100 * 24 * 3600_000;
		let t = end - span;
		const ids = new IdGenerator(() => t);
		for (let i = 1; i <= n; i += 1_000) {
			const rows: MessageIndexRow[] = [];
			for (let j = i; j < Math.min(n + 1, i + 1_000); j++) {
				t = Math.floor(end - span + (j * span) / n);
				rows.push(
					row(
						ids.next(),
						new Date(t).toISOString(),
						j === n ? `m${j} the newest message of all` : messageText(j),
						j % 3 === 0 ? 'bot' : 'person',
						'7000'
					)
				);
			}
			await store(db, rows);
		}
		return { ms: performance.now() - start, reused: false };
	},
	async query(q, conversations) {
		if (!db) throw new Error('fill first');
		const parsed = parseQuery(q);
		Object.assign(requests, { count: 0, answered: 0, deepest: 0 });
		const start = performance.now();
		const rows = await searchMessages(db, {
			words: parsed.words,
			conversations: conversations ? new Set(conversations) : null,
			limit: 50
		});
		const ms = performance.now() - start;
		return { ms, found: rows.length, requests: requests.count, rounds: requests.deepest };
	}
};
