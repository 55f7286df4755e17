import * as Y from 'yjs';
import * as prng from 'lib0/prng';
import { Dexie } from 'dexie';
import { IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
	createConversation,
	deleteMessage,
	editMessage,
	postMessage,
	postReply,
	compareIds,
	readAllMessages,
	searchWords,
	type Message
} from '../../../src/lib/model';
import {
	ConversationIndexer,
	rankOf,
	searchMessages,
	type KithDb,
	type SearchQuery,
	type StoredMessageRow
} from '../../../src/lib/db';
import { alice, at, bob, carol, T0 } from '../../fixtures/model';
import { channelDoc, CONVERSATION_ID, freshIndexedDb, openIndex, TwoReplicas } from './helpers';

/** What search must return: live messages whose words each query word prefixes, newest first. */
function bruteForce(
	messages: readonly Message[],
	words: readonly string[],
	limit = Infinity
): string[] {
	return messages
		.filter((m) => m.deleted_at === null)
		.filter((m) => {
			const own = searchWords(m.content);
			return words.every((w) => own.some((x) => x.startsWith(w)));
		})
		.map((m) => m.id)
		.sort((a, b) => compareIds(b, a))
		.slice(0, limit);
}

async function ids(db: KithDb, words: string[], limit = 10_000): Promise<string[]> {
	return (await searchMessages(db, { words, limit })).map((m) => m.id).sort();
}

/** The planner's paths: word by word in tiny pages, walking all messages, walking one conversation. */
const paths: Array<{
	name: string;
	tuning: NonNullable<SearchQuery['tuning']>;
	inConversation?: boolean;
}> = [
	{ name: 'word by word', tuning: { narrowWords: 10_000, firstPage: 1 } },
	{
		name: 'word by word, rows by index range',
		tuning: { narrowWords: 10_000, firstPage: 2, rowSpan: Infinity }
	},
	{
		name: 'word by word, rows one by one',
		tuning: { narrowWords: 10_000, firstPage: 2, rowSpan: 0 }
	},
	{
		name: 'word by word in one conversation, rows by index range',
		tuning: { narrowWords: 10_000, firstPage: 2, rowSpan: Infinity },
		inConversation: true
	},
	{
		name: 'word by word, first entries listed when few',
		tuning: { narrowWords: 10_000, firstPage: 16 }
	},
	{ name: 'walk', tuning: { narrowWords: 0, firstPage: 1, listedEntries: 0 } },
	{ name: 'listed entries', tuning: { narrowWords: 0, firstPage: 1, listedEntries: 10_000 } },
	{
		name: 'listed entries in one conversation',
		tuning: { narrowWords: 0, firstPage: 1, listedEntries: 10_000 },
		inConversation: true
	},
	{
		name: 'word by word in one conversation',
		tuning: { narrowWords: 10_000, firstPage: 1 },
		inConversation: true
	},
	{
		name: 'walk one conversation',
		tuning: { narrowWords: 0, firstPage: 1, listedEntries: 0 },
		inConversation: true
	}
];

/** Every stored row's words are exactly the words of its content (none for a tombstone). */
async function expectWordsEqualContent(db: KithDb): Promise<void> {
	const rows: StoredMessageRow[] = await db.messages.toArray();
	for (const row of rows) {
		expect(
			row.words.map(([w]) => w),
			`words of ${row.id}`
		).toEqual(row.deleted ? [] : searchWords(row.content));
		expect(row.rank).toBe(rankOf(row.id));
		for (const [, rank] of row.words) expect(rank).toBe(row.rank);
		expect(row.cwords).toEqual(row.words.map(([w, r]) => [row.conversation_id, w, r]));
	}
}

/**
 * Every read from now on: its table, when it was made and answered, the IndexedDB requests it
 * took (`bulkGet` makes one per key) and the rows it read.
 */
function logRequests(db: KithDb) {
	const log: Array<{ table: string; start: number; end: number; requests: number; rows: number }> =
		[];
	let clock = 0;
	db.use({
		stack: 'dbcore',
		name: 'log-requests',
		create: (core) => ({
			...core,
			table: (name) => {
				const table = core.table(name);
				const logged = async <T>(
					requests: number,
					rows: (r: T) => number,
					request: () => Promise<T>
				) => {
					const entry = { table: name, start: clock++, end: Infinity, requests, rows: 0 };
					log.push(entry);
					const result = await request();
					entry.end = clock++;
					entry.rows = rows(result);
					return result;
				};
				return {
					...table,
					getMany: (req) =>
						logged(
							req.keys.length,
							(r) => r.length,
							() => table.getMany(req)
						),
					query: (req) =>
						logged(
							1,
							(r) => (req.values ? r.result.length : 0),
							() => table.query(req)
						)
				};
			}
		})
	});
	return log;
}

/** How many answers each read waited for, one after the other (its round trip), at most. */
function roundTrips(log: ReturnType<typeof logRequests>): number {
	const round = new Map<(typeof log)[number], number>();
	for (const r of [...log].sort((a, b) => a.start - b.start)) {
		const before = log.filter((o) => o.end < r.start).map((o) => round.get(o) ?? 1);
		round.set(r, 1 + Math.max(0, ...before));
	}
	return Math.max(0, ...round.values());
}

describe('search index', () => {
	for (const seed of [11, 12, 13]) {
		it(`stays equal to the messages through random posts, edits and deletes (seed ${seed})`, async () => {
			const db = openIndex();
			const doc = channelDoc();
			const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc, { idleMs: 5 });
			await indexer.start();
			const net = new TwoReplicas(doc, seed);
			const gen = prng.create(seed * 7);
			for (let round = 0; round < 5; round++) {
				for (let i = 0; i < 60; i++) {
					net.step();
					if (i % 9 === 4) await new Promise((r) => setImmediate(r));
				}
				await indexer.whenIdle();
				await expectWordsEqualContent(db);
				const messages = readAllMessages(doc);
				// Queries drawn from the words actually there (cut to random prefixes), and random ones.
				const vocabulary = messages.flatMap((m) => searchWords(m.content));
				for (let q = 0; q < 15; q++) {
					const words: string[] = [];
					const n = prng.int32(gen, 1, 2);
					for (let k = 0; k < n; k++) {
						const w =
							vocabulary.length > 0 && prng.bool(gen)
								? prng.oneOf(gen, vocabulary)
								: prng.word(gen, 1, 3);
						words.push(w.slice(0, prng.int32(gen, 1, w.length)));
					}
					const all = bruteForce(messages, words);
					expect(await ids(db, words), `query ${words.join(' ')}`).toEqual([...all].sort());
					const limit = prng.int32(gen, 1, 6);
					for (const path of paths) {
						const found = await searchMessages(db, {
							words,
							limit,
							tuning: path.tuning,
							conversations: path.inConversation ? new Set([CONVERSATION_ID]) : null
						});
						expect(
							found.map((m) => m.id),
							`${path.name}: ${words.join(' ')} (limit ${limit})`
						).toEqual(all.slice(0, limit));
					}
					// `from:`: word by word racing a walk of the person's messages, and a plain walk.
					const author = prng.oneOf(gen, [alice, bob, carol]);
					const theirs = all.filter(
						(id) => messages.find((m) => m.id === id)?.created_by === author
					);
					for (const [narrowWords, listedEntries] of [
						[10_000, 0],
						[0, 0],
						[0, 10_000]
					] as const) {
						const found = await searchMessages(db, {
							words,
							limit,
							authors: new Set([author]),
							tuning: { narrowWords, firstPage: 1, listedEntries }
						});
						expect(
							found.map((m) => m.id),
							`from ${author}: ${words.join(' ')}`
						).toEqual(theirs.slice(0, limit));
					}
				}
				// Filters alone: someone's messages, a conversation's, newest first.
				const live = messages.filter((m) => m.deleted_at === null);
				const newest = (ms: Message[], limit: number) =>
					ms
						.map((m) => m.id)
						.sort((a, b) => compareIds(b, a))
						.slice(0, limit);
				for (const author of [alice, bob, carol]) {
					const limit = prng.int32(gen, 1, 8);
					const found = await searchMessages(db, {
						words: [],
						authors: new Set([author]),
						limit,
						tuning: { firstPage: 1 }
					});
					expect(found.map((m) => m.id)).toEqual(
						newest(
							live.filter((m) => m.created_by === author),
							limit
						)
					);
				}
				const inIt = await searchMessages(db, {
					words: [],
					conversations: new Set([CONVERSATION_ID]),
					limit: 7,
					tuning: { firstPage: 1 }
				});
				expect(inIt.map((m) => m.id)).toEqual(newest(live, 7));
			}
			expect(net.performed).toBeGreaterThan(100);
			expect(indexer.stats.rebuilds).toBe(1);
			await indexer.stop();
			db.close();
			// Six planner paths per query on fake-indexeddb: ~4 s alone, several times that on a
			// busy machine.
		}, 60_000);
	}

	it('finds a rare word with a common one when the common one’s keys over the span are too many to sieve by', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const rare: string[] = [];
		for (let i = 0; i < 300; i++) {
			const content = i % 149 === 0 ? `zebra the crossing ${i}` : `the plan for ${i}`;
			const m = postMessage(doc, { content, created_by: alice });
			if (content.startsWith('zebra')) rare.push(m.id);
		}
		await indexer.whenIdle();
		// 3 candidates for "zebra" across all 300 messages: "the" has ~300 keys between them.
		const found = await searchMessages(db, { words: ['zebra', 'the'] });
		expect(found.map((m) => m.id)).toEqual([...rare].sort((a, b) => compareIds(b, a)));
		await indexer.stop();
	});

	it('finds two common words’ newest matches in one round trip, the rows in one request', async () => {
		const db = openIndex();
		const log = logRequests(db);
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const posted: string[] = [];
		for (let i = 0; i < 200; i++)
			posted.push(postMessage(doc, { content: `the plan ${i}`, created_by: alice }).id);
		await indexer.whenIdle();
		log.length = 0;
		const found = await searchMessages(db, { words: ['plan', 'the'], limit: 50 });
		expect(found.map((m) => m.id)).toEqual(posted.sort((a, b) => compareIds(b, a)).slice(0, 50));
		// Not one `get` per row: the driver's first page (64 rows) in one read, with its
		// vocabulary and the other word's, checked in memory: no round trip for the other word's
		// keys (a sieve), nor for the rows after the keys.
		const rowReads = log.filter((r) => r.rows > 0);
		expect(rowReads.map(({ requests, rows }) => ({ requests, rows }))).toEqual([
			{ requests: 1, rows: 64 }
		]);
		expect(roundTrips(log)).toBe(1);
		// The words' vocabulary and their first entries are asked for together, before any answer.
		const firstAnswer = Math.min(...log.map((r) => r.end));
		const askedTogether = log.filter((r) => r.start < firstAnswer);
		expect(askedTogether.map((r) => r.table).sort()).toEqual([
			'messages',
			'messages',
			'search_words',
			'search_words'
		]);
		await indexer.stop();
	});

	it('finds a prefix standing for several stored words in few messages in one round trip', async () => {
		const db = openIndex();
		const log = logRequests(db);
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		// "m50" stands for m50 and m500–m509 (11 stored words, 11 messages), among 600 others.
		const marked = new Map<number, string>();
		for (let i = 1; i <= 600; i++) {
			const m = postMessage(doc, { content: `m${i} the plan`, created_by: alice });
			if (`${i}`.startsWith('50')) marked.set(i, m.id);
		}
		await indexer.whenIdle();
		log.length = 0;
		const found = await searchMessages(db, { words: ['m50'] });
		expect(found.map((m) => m.id)).toEqual([...marked.values()].sort((a, b) => compareIds(b, a)));
		// Its vocabulary and its first entries (all 11 of them, as rows) together: no round trip
		// for each stored word's own entries, nor for the rows.
		expect(roundTrips(log)).toBe(1);
		expect(log.filter((r) => r.rows > 0).reduce((n, r) => n + r.rows, 0)).toBe(11);
		await indexer.stop();
	});

	it('forgets a deleted message’s words in the write that deletes it, and follows edits', async () => {
		const db = openIndex();
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const m = postMessage(doc, { content: 'the secret banana plan', created_by: alice });
		const r = postReply(doc, m.id, { content: 'banana bread', created_by: bob });
		await indexer.whenIdle();
		expect(await ids(db, ['banan'])).toEqual([m.id, r.id].sort());
		editMessage(doc, r.id, { content: 'apple pie', edited_by: bob, edited_at: at(5) });
		await indexer.whenIdle();
		expect(await ids(db, ['banan'])).toEqual([m.id]);
		expect(await ids(db, ['appl', 'pi'])).toEqual([r.id]);
		deleteMessage(doc, m.id, { deleted_by: alice, deleted_at: at(6) });
		await indexer.whenIdle();
		expect(await ids(db, ['banana'])).toEqual([]);
		expect(await ids(db, ['secret'])).toEqual([]);
		// The thread stays, and stays findable.
		expect(await ids(db, ['apple'])).toEqual([r.id]);
		await indexer.stop();
	});

	it('finds words by prefix, without accents or case, newest first, across conversations', async () => {
		const db = openIndex();
		const docs = ['8001', '8002'].map((id) => {
			const doc = new Y.Doc();
			createConversation(doc, {
				kind: 'channel',
				id,
				name: `c${id}`,
				created_by: alice,
				members: [bob, carol],
				created_at: new Date(T0).toISOString()
			});
			return doc;
		});
		const indexers = docs.map((doc, i) => new ConversationIndexer(db, ['8001', '8002'][i]!, doc));
		for (const ix of indexers) await ix.start();
		const a = postMessage(docs[0]!, { content: 'On se voit au Café ?', created_by: alice });
		const b = postMessage(docs[1]!, { content: 'CAFÉS et croissants', created_by: bob });
		const c = postMessage(docs[0]!, { content: 'cafe\u0301 noir', created_by: bob });
		postMessage(docs[1]!, { content: 'nothing here', created_by: carol });
		for (const ix of indexers) await ix.whenIdle();
		const found = await searchMessages(db, { words: ['cafe'] });
		expect(found.map((m) => m.id)).toEqual([c.id, b.id, a.id]);
		expect((await searchMessages(db, { words: ['caf'], limit: 2 })).map((m) => m.id)).toEqual([
			c.id,
			b.id
		]);
		// Filters: author, conversation, both, and a filter alone.
		const q = (authors: string[] | null, conversations: string[] | null, words = ['cafe']) =>
			searchMessages(db, {
				words,
				authors: authors && new Set(authors),
				conversations: conversations && new Set(conversations)
			}).then((rows) => rows.map((m) => m.id));
		expect(await q([bob], null)).toEqual([c.id, b.id]);
		expect(await q(null, ['8001'])).toEqual([c.id, a.id]);
		expect(await q([bob], ['8001'])).toEqual([c.id]);
		expect(await q([alice], null, [])).toEqual([a.id]);
		expect((await q(null, ['8002'], [])).length).toBe(2);
		expect(await q([], null)).toEqual([]);
		expect(await q(null, null, [])).toEqual([]);
		expect(await q(null, null, ['zzz'])).toEqual([]);
		for (const ix of indexers) await ix.stop();
	});

	it('keeps the index across a reload, and gives rows of the previous version their words', async () => {
		const factory = freshIndexedDb();
		// A database written by version 1 of the schema (before search): rows without words.
		const v1 = new Dexie('kith-test', { indexedDB: factory, IDBKeyRange });
		v1.version(1).stores({
			conversations: 'id, created_at',
			conversation_members: '[conversation_id+user_id], user_id',
			messages: 'id, [conversation_id+created_at], parent_message_id, created_by',
			user_status: 'id, &user_id',
			blobs: 'sha256',
			index_state: 'conversation_id',
			settings: 'key'
		});
		await v1.table('messages').put({
			id: '42',
			created_at: at(1),
			content: 'Crème brûlée',
			created_by: alice,
			reactions: {},
			conversation_id: CONVERSATION_ID,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null,
			edited_at: null,
			deleted: false
		});
		v1.close();
		const db = openIndex(factory);
		expect(await ids(db, ['creme', 'brul'])).toEqual(['42']);
		const doc = channelDoc();
		const indexer = new ConversationIndexer(db, CONVERSATION_ID, doc);
		await indexer.start();
		const m = postMessage(doc, { content: 'persisted words', created_by: alice });
		await indexer.stop();
		db.close();
		const again = openIndex(factory);
		expect(await ids(again, ['persist'])).toEqual([m.id]);
		again.close();
	});
});
