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
import { parseQuery } from '../../src/lib/model';

declare global {
	interface Window {
		kithBench: {
			fill(n: number, seed: number): Promise<{ ms: number; vocabulary: string[] }>;
			query(q: string, conversations?: string[]): Promise<{ ms: number; found: number }>;
		};
	}
}

let db: KithDb | null = null;

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
				rows.push({
					id: String(1_000_000_000 + j),
					created_at: new Date(t0 + j * 1_000).toISOString(),
					content: words.join(' '),
					created_by: `user${Math.floor(random() * 50)}`,
					reactions: {},
					conversation_id: String(7_000 + Math.floor(random() * 20)),
					file_attachments: [],
					parent_message_id: null,
					audio_url: null,
					edited_at: null,
					deleted: false
				});
			}
			const stored = rows.map(withWords);
			const target = db;
			const words = await target.transaction(
				'rw',
				[target.messages, target.search_words],
				async () => {
					await target.messages.bulkPut(stored);
					return putVocabulary(target, stored);
				}
			);
			rememberVocabulary(target, words);
		}
		return { ms: performance.now() - start, vocabulary };
	},
	async query(q, conversations) {
		if (!db) throw new Error('fill first');
		const parsed = parseQuery(q);
		const start = performance.now();
		const rows = await searchMessages(db, {
			words: parsed.words,
			conversations: conversations ? new Set(conversations) : null,
			limit: 50
		});
		return { ms: performance.now() - start, found: rows.length };
	}
};
