/**
 * Search over the local index: every conversation on the device, offline (docs/ARCHITECTURE.md,
 * "Search"). Three stored pieces, all written by the indexer in the same Dexie transaction as
 * the rows they describe:
 *
 * - `messages.words`: `[word, rank]` for each distinct normalised word of the content, behind
 *   the multiEntry index `*words`; `messages.cwords`: the same with the conversation first
 *   (`[conversation_id, word, rank]`, index `*cwords`), for `in:` searches. `rank` is the message id inverted and zero-padded, so the
 *   entries of one word sort newest first and `getAllKeys(range, n)` reads the newest `n` of a
 *   word in one request (IndexedDB has no reverse `getAll`, and a reverse cursor costs one
 *   round trip per entry).
 * - `messages.rank` (indexed, and `[conversation_id+rank]`, `[created_by+rank]`): the same key
 *   on the row, to walk all messages, one conversation's or one person's, newest first.
 * - `search_words`: every word ever indexed (never pruned: a stale word costs one empty read),
 *   so that a prefix becomes the list of words it stands for with one key-range read.
 *
 * A query word is "narrow" when it prefixes few stored words (≤ {@link NARROW_WORDS}): its
 * matches are then read newest first, word by word, a page at a time. A "broad" prefix ("a",
 * "co") matches so many messages that walking messages newest first finds `limit` of them
 * sooner, unless its index entries are few ("m29": 1,111 words, 1,111 messages): then their
 * ids are read in one request and checked newest first. The narrowest word drives; every candidate row is then checked for the other words
 * and the filters in memory.
 */
import { Dexie } from 'dexie';
import { compareIds, searchWords } from '$lib/model';
import type { KithDb } from './database';
import {
	messageRowSchema,
	type MessageIndexRow,
	type SearchWordRow,
	type StoredMessageRow
} from './rows';

export interface SearchQuery {
	/** Normalised words (`parseQuery(...).words`); each must prefix one of a message's words. */
	words: readonly string[];
	/** Only messages by these people (null or absent: anyone). */
	authors?: ReadonlySet<string> | null;
	/** Only messages in these conversations (null or absent: all). */
	conversations?: ReadonlySet<string> | null;
	/** At most this many results (default 50). */
	limit?: number;
	/** The planner's thresholds (tests drive every path with tiny or huge ones). */
	tuning?: {
		narrowWords?: number;
		firstPage?: number;
		listedEntries?: number;
		/** Rows read by index range when at most this many per wanted row (see ROW_SPAN). */
		rowSpan?: number;
	};
}

/** A prefix standing for at most this many stored words is read word by word. */
export const NARROW_WORDS = 48;
/**
 * A broad prefix with at most this many index entries is read as a list of ids (one request
 * of keys only), sorted newest first and checked a page at a time, instead of walking every
 * message: "m29" stands for 1,111 stored words but only 1,111 messages of 100,000, the newest
 * of them 70,000 messages back, and the walk that found them took 5.5 s; the list, ~20 ms.
 */
export const LISTED_ENTRIES = 4_096;
/**
 * A second query word standing for at most this many stored words sieves the first word's
 * candidates by index keys (its entries between the newest and the oldest candidate) before
 * any row is read: two common words ("the plan") read ~200 rows to keep 50 without it.
 */
const SIEVE_WORDS = 4;
/**
 * One word's wanted rows are read by one index range when that range holds at most this many
 * rows per wanted one (the others are the driver's candidates that a sieve dropped).
 */
const ROW_SPAN = 2;
/** Candidates read per word, and rows per step of a walk, at first (doubling after). */
const FIRST_PAGE = 64;
const MAX_PAGE = 4_096;

const RANK_TOP = 2n ** 63n - 1n;
const RANK_DIGITS = 19;

/**
 * A message id as a key that sorts newest first: ids are time-ordered 63-bit numbers in
 * decimal, which as strings sort wrong once they gain a digit; inverted and padded they sort
 * right, in reverse.
 */
export function rankOf(id: string): string {
	if (!/^\d{1,19}$/.test(id)) return '9'.repeat(RANK_DIGITS);
	const n = BigInt(id);
	return (n > RANK_TOP ? 0n : RANK_TOP - n).toString().padStart(RANK_DIGITS, '0');
}

/**
 * A row as stored: its search fields derived from its content in the same write. An edit
 * replaces them; a tombstone (no content) has none, so search never finds deleted text.
 */
export function withWords(row: MessageIndexRow): StoredMessageRow {
	const rank = rankOf(row.id);
	const words = row.deleted ? [] : searchWords(row.content);
	const c = row.conversation_id;
	return {
		...row,
		rank,
		words: words.map((w): [string, string] => [w, rank]),
		cwords: words.map((w): [string, string, string] => [c, w, rank])
	};
}

/** The vocabulary rows for some stored rows (what `search_words` must hold for them). */
export function vocabularyOf(rows: readonly StoredMessageRow[]): SearchWordRow[] {
	const seen = new Set<string>();
	for (const r of rows) for (const [w] of r.words) seen.add(w);
	return [...seen].map((word) => ({ word }));
}

// Words known to be in `search_words` (committed), per database: the vocabulary is never pruned,
// so a word once written need not be written again. Without this, every chunk of a rebuild
// rewrote thousands of common words (3 puts per message; the rebuild took 2.8x as long).
const committed = new WeakMap<KithDb, Set<string>>();

/**
 * Writes the vocabulary of `rows` that is not known to be stored yet. Call inside the Dexie
 * transaction that writes the rows; then {@link rememberVocabulary} once it has committed.
 */
export async function putVocabulary(
	db: KithDb,
	rows: readonly StoredMessageRow[]
): Promise<string[]> {
	const known = committed.get(db);
	const words = vocabularyOf(rows).filter((r) => !known?.has(r.word));
	if (words.length > 0) await db.search_words.bulkPut(words);
	return words.map((r) => r.word);
}

/** Records words whose transaction committed (see {@link putVocabulary}). */
export function rememberVocabulary(db: KithDb, words: readonly string[]): void {
	let known = committed.get(db);
	if (!known) committed.set(db, (known = new Set()));
	for (const w of words) known.add(w);
}

/**
 * Messages that match every word (prefix, accent- and case-insensitive) and the filters, newest
 * first. Deleted messages have no words, so a word query never returns one; a filter-only query
 * (no words) skips them too.
 *
 * @example
 * const q = parseQuery('from:@ada cafe');
 * await searchMessages(db, { words: q.words, authors: new Set([adaId]) });
 */
export async function searchMessages(db: KithDb, query: SearchQuery): Promise<MessageIndexRow[]> {
	const limit = query.limit ?? 50;
	const authors = query.authors ?? null;
	const conversations = query.conversations ?? null;
	if (limit <= 0 || authors?.size === 0 || conversations?.size === 0) return [];
	const words = [...new Set(query.words)].filter((w) => w !== '');
	const tuning = {
		narrow: query.tuning?.narrowWords ?? NARROW_WORDS,
		first: query.tuning?.firstPage ?? FIRST_PAGE,
		listed: query.tuning?.listedEntries ?? LISTED_ENTRIES,
		span: query.tuning?.rowSpan ?? ROW_SPAN
	};
	const check = (row: StoredMessageRow) => matches(row, words, authors, conversations);

	// One read-only transaction for the whole search: Dexie would otherwise open one per request.
	// The rows are final once the plan has them: waiting for the transaction's end as well cost
	// one more task hop to IndexedDB and back (up to 80 ms at a load of 15). A failure of the
	// plan aborts the transaction and rejects here.
	// (Resolved outside the transaction's zone: Dexie carries it along promise chains, and the
	// caller's next write would otherwise find itself inside this finished transaction.)
	const found = await new Promise<StoredMessageRow[]>((resolve, reject) => {
		db.transaction('r', [db.messages, db.search_words], async () => {
			const rows = await plan(db, words, limit, tuning, check, authors, conversations);
			Dexie.ignoreTransaction(() => resolve(rows));
		}).catch(reject);
	});
	return found
		.map((raw) => messageRowSchema.parse(raw, 'messages'))
		.sort(
			(a, b) =>
				(a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0) ||
				compareIds(b.id, a.id)
		);
}

async function plan(
	db: KithDb,
	words: readonly string[],
	limit: number,
	{ narrow, first, listed, span }: { narrow: number; first: number; listed: number; span: number },
	check: (row: StoredMessageRow) => boolean,
	authors: ReadonlySet<string> | null,
	conversations: ReadonlySet<string> | null
): Promise<StoredMessageRow[]> {
	if (words.length === 0) {
		if (conversations === null && authors === null) return [];
		return filtered(db, limit, first, check, authors, conversations);
	}
	// A filter passes some candidates only: start with bigger pages.
	const page = authors !== null || conversations !== null ? first * 4 : first;
	// The narrowest word drives: fewest stored words under it, the longest on a tie. The
	// vocabulary of every word is read at once (one round trip, not one per word), and with it
	// the newest `page` index entries under each query word: when the word is its only stored
	// word (a typed word usually is, and usually drives: "release", "m20838") they are its
	// stream's first page; when they are fewer than `page` they are all its messages. The
	// longest word's are read as rows: it usually drives (the narrowest, or the longest on a
	// tie: "release", "m20838", "the numbers"), and its first page then needs no second read.
	const byLength = [...words].sort((a, b) => b.length - a.length);
	const read = new Map<string, StoredMessageRow>();
	const [vocabulary, firstEntries] = await Promise.all([
		Promise.all(
			byLength.map((w) =>
				db.search_words
					.where(':id')
					.startsWith(w)
					.limit(narrow + 1)
					.primaryKeys()
			)
		),
		conversations !== null
			? null
			: Promise.all(byLength.map((w, i) => entriesFirst(db, w, page, i === 0 ? read : null)))
	]);
	let driver: string[] | null = null;
	const narrowOnes: string[][] = [];
	const firstPages = new Map<string, string[]>();
	let fewest: string[] | null = null;
	for (const [i, under] of vocabulary.entries()) {
		if (under.length === 0) return [];
		const entries = firstEntries?.[i];
		if (entries !== undefined) {
			if (under.length === 1 && under[0] === byLength[i]) firstPages.set(byLength[i]!, entries);
			// All the messages of a word standing for several stored words ("m5000": 11, in 11
			// messages): checked as a list, no stream per stored word to read first (one round
			// trip instead of two). Under one stored word its stream reads rows by range instead.
			else if (entries.length < page && (!fewest || entries.length < fewest.length))
				fewest = entries;
		}
		if (under.length > narrow) continue;
		narrowOnes.push(under);
		if (!driver || under.length < driver.length) driver = under;
	}
	if (fewest !== null)
		return run(
			new Listed(
				db,
				[...new Set(fewest)].sort((a, b) => compareIds(b, a)),
				limit,
				page,
				check,
				read
			)
		);
	if (!driver) {
		// Every word is a broad prefix: the longest may still be in few messages (see LISTED_ENTRIES).
		const longest = [...words].sort((a, b) => b.length - a.length)[0]!;
		const ids = await entriesUnder(db, longest, conversations, listed);
		if (ids !== null) return run(new Listed(db, ids, limit, page, check, read));
		return run(
			conversations !== null
				? new KeyWalk(db, '[conversation_id+rank]', conversations, limit, page, check)
				: new Walk(db, limit, page, check)
		);
	}
	// Under `in:`, each conversation's own entries (`cwords`): no candidate from elsewhere.
	// The other narrow words sieve the driver's candidates by their index keys (few words each).
	const sieves = narrowOnes.filter((u) => u !== driver && u.length <= SIEVE_WORDS);
	// Every other word sieved and no author to check: a candidate left by the sieves matches.
	const exact = sieves.length === words.length - 1 && authors === null;
	const byWords = new ByWords(
		db,
		driver,
		sieves,
		exact,
		span,
		conversations,
		limit,
		page,
		check,
		firstPages,
		read
	);
	if (authors === null || conversations !== null) return run(byWords);
	// Under `from:` alone, a common word's matches may be mostly others', and walking the
	// person's own messages wins; which is cheaper is unknown up front: take turns, keep the
	// first to finish (at most twice the cheaper one's work).
	return race(byWords, new KeyWalk(db, '[created_by+rank]', authors, limit, page, check));
}

/**
 * The ids of the first `page` `words` entries under a prefix: ordered by stored word, then
 * newest first, so under one stored word its newest `page`; fewer than `page` are all of them.
 * With `rows`, read as rows (kept there by id) rather than keys.
 */
async function entriesFirst(
	db: KithDb,
	prefix: string,
	page: number,
	rows: Map<string, StoredMessageRow> | null
): Promise<string[]> {
	// Every word under the prefix sorts below `prefix + U+FFFF` (words are NFKD letters and digits).
	const entries = db.messages
		.where('words')
		.between([prefix], [prefix + '\uffff'], true, false)
		.limit(page);
	if (rows === null) return entries.primaryKeys();
	const found: StoredMessageRow[] = await entries.toArray();
	for (const row of found) rows.set(row.id, row);
	return found.map((row) => row.id);
}

/** The rows of `ids` (in that order), those in `read` without asking IndexedDB again. */
async function rowsOf(
	read: ReadonlyMap<string, StoredMessageRow>,
	ids: readonly string[],
	fetch: (missing: readonly string[]) => Promise<(StoredMessageRow | undefined)[]>
): Promise<(StoredMessageRow | undefined)[]> {
	const missing = ids.filter((id) => !read.has(id));
	if (missing.length === 0) return ids.map((id) => read.get(id));
	const fetched = new Map<string, StoredMessageRow | undefined>();
	(await fetch(missing)).forEach((row, i) => fetched.set(missing[i]!, row));
	return ids.map((id) => read.get(id) ?? fetched.get(id));
}

/** A way to find the newest `limit` matches, one bounded step at a time. */
interface Searcher {
	readonly out: StoredMessageRow[];
	/** One more page; true once `out` is final. */
	step(): Promise<boolean>;
}

async function run(s: Searcher): Promise<StoredMessageRow[]> {
	while (!(await s.step()));
	return s.out;
}

async function race(a: Searcher, b: Searcher): Promise<StoredMessageRow[]> {
	for (;;) {
		if (await a.step()) return a.out;
		if (await b.step()) return b.out;
	}
}

/**
 * The newest `limit` rows passing `check` among the messages holding any of `words`: each
 * word's entries are read newest first, a page at a time; a candidate is taken only once no
 * unread entry of any word can be newer (the frontier), so the order is exact.
 */
class ByWords implements Searcher {
	readonly out: StoredMessageRow[] = [];
	readonly #streams: Array<{
		prefix: string[];
		after: string;
		done: boolean;
		buffer: string[];
	}>;
	readonly #index: 'words' | 'cwords';
	/** Per sieving query word, the key prefixes of its stored words (per conversation under `in:`). */
	readonly #sieves: string[][][];
	readonly #seen = new Set<string>();
	#page: number;
	#firstStep = true;

	constructor(
		private readonly db: KithDb,
		words: readonly string[],
		sieves: readonly (readonly string[])[],
		/** True when every query word but the driver is a sieve and nothing else is checked. */
		private readonly exact: boolean,
		private readonly span: number,
		conversations: ReadonlySet<string> | null,
		private readonly limit: number,
		first: number,
		private readonly check: (row: StoredMessageRow) => boolean,
		/** First pages already read (of `first` ids), by stored word (not under `in:`). */
		firstPages: ReadonlyMap<string, string[]>,
		/** Rows already read in this search, by id. */
		private readonly read: ReadonlyMap<string, StoredMessageRow> = new Map()
	) {
		// One stream per word (per word and conversation under `in:`): `[...prefix, rank]` keys.
		const prefixes =
			conversations === null
				? words.map((w) => [w])
				: [...conversations].flatMap((c) => words.map((w) => [c, w]));
		this.#index = conversations === null ? 'words' : 'cwords';
		this.#streams = prefixes.map((prefix) => {
			const ids = prefix.length === 1 ? firstPages.get(prefix[0]!) : undefined;
			if (ids === undefined) return { prefix, after: '', done: false, buffer: [] };
			const after = ids.length > 0 ? rankOf(ids[ids.length - 1]!) : '';
			return { prefix, after, done: ids.length < first, buffer: [...ids] };
		});
		this.#sieves = sieves.map((under) =>
			conversations === null
				? under.map((w) => [w])
				: [...conversations].flatMap((c) => under.map((w) => [c, w]))
		);
		this.#page = first;
	}

	async step(): Promise<boolean> {
		const page = this.#page;
		await Promise.all(
			this.#streams
				.filter((s) => !s.done && s.buffer.length === 0)
				.map(async (s) => {
					const ids = await this.db.messages
						.where(this.#index)
						.between([...s.prefix, s.after], [...s.prefix, Dexie.maxKey], false, true)
						.limit(page)
						.primaryKeys();
					s.buffer = ids;
					if (ids.length < page) s.done = true;
					if (ids.length > 0) s.after = rankOf(ids[ids.length - 1]!);
				})
		);
		// Anything newer than every open stream's last read entry is in some buffer already.
		let frontier: string | null = null;
		for (const s of this.#streams)
			if (!s.done && (frontier === null || s.after < frontier)) frontier = s.after;
		const ready: string[] = [];
		for (const s of this.#streams) {
			const keep: string[] = [];
			for (const id of s.buffer) {
				if (frontier !== null && rankOf(id) > frontier) keep.push(id);
				else if (!this.#seen.has(id)) {
					this.#seen.add(id);
					ready.push(id);
				}
			}
			s.buffer = keep;
		}
		ready.sort((a, b) => compareIds(b, a));
		// The first page of one stream is read as rows in one request and checked in memory: the
		// sieve's keys would be a round trip of their own before it (two common words: 3 round
		// trips to 2, for 64 rows read instead of 50). The sieves pay off on the pages after.
		const unsieved = this.#firstStep && this.#streams.length === 1 && this.#sieves.length > 0;
		this.#firstStep = false;
		const { ids, exact } = unsieved ? { ids: ready, exact: false } : await this.#sieve(ready);
		// When the sieves leave only matches, read just the rows still wanted (the first page
		// holds 64 candidates for 50 results); otherwise all, in one go, and check them.
		const batch = exact ? this.limit - this.out.length : ids.length;
		for (let at = 0; at < ids.length; at += batch) {
			const wanted = ids.slice(at, at + batch);
			for (const row of await rowsOf(this.read, wanted, (missing) => this.#rows(ready, missing))) {
				if (row && this.check(row)) this.out.push(row);
				if (this.out.length === this.limit) return true;
			}
		}
		this.#page = Math.min(page * 2, MAX_PAGE);
		return this.#streams.every((s) => s.done && s.buffer.length === 0);
	}

	/**
	 * The rows of `ids` (newest first, a subset of `read`, this step's candidates in stream
	 * order). One stream's rows between the first and the last id come in one request from its
	 * index when they are few besides the wanted ones: `bulkGet` is one request and one event
	 * per row (64 rows took 7–95 ms at a load of 11–15, against ~1 ms for one row).
	 */
	async #rows(
		read: readonly string[],
		ids: readonly string[]
	): Promise<(StoredMessageRow | undefined)[]> {
		const stream = this.#streams.length === 1 ? this.#streams[0]! : null;
		if (stream === null || ids.length < 2) return this.db.messages.bulkGet([...ids]);
		const first = ids[0]!;
		const last = ids[ids.length - 1]!;
		const span = read.indexOf(last) - read.indexOf(first) + 1;
		if (span > this.span * ids.length) return this.db.messages.bulkGet([...ids]);
		const rows = await this.db.messages
			.where(this.#index)
			.between([...stream.prefix, rankOf(first)], [...stream.prefix, rankOf(last)], true, true)
			.toArray();
		const byId = new Map(rows.map((r) => [r.id, r]));
		return ids.map((id) => byId.get(id));
	}

	/**
	 * The candidates (newest first) that every sieving word's index keys also hold; `exact` when
	 * the sieves stand for every other query word (none left to the row check).
	 */
	async #sieve(ids: string[]): Promise<{ ids: string[]; exact: boolean }> {
		if (ids.length === 0 || this.#sieves.length === 0) return { ids, exact: this.exact };
		const newest = rankOf(ids[0]!);
		const oldest = rankOf(ids[ids.length - 1]!);
		// A rare driver's candidates can span years, and a common word's keys over them be most
		// of the index: past a few per candidate, that word is left to the row check instead.
		const cap = 4 * ids.length + 64;
		const holding = await Promise.all(
			this.#sieves.map(async (prefixes) => {
				const keys = await Promise.all(
					prefixes.map((p) =>
						this.db.messages
							.where(this.#index)
							.between([...p, newest], [...p, oldest], true, true)
							.limit(cap + 1)
							.primaryKeys()
					)
				);
				return keys.some((k) => k.length > cap) ? null : new Set(keys.flat());
			})
		);
		return {
			ids: ids.filter((id) => holding.every((h) => h === null || h.has(id))),
			exact: this.exact && holding.every((h) => h !== null)
		};
	}
}

/**
 * The ids of the messages holding a word that starts with `prefix` (in `conversations` when
 * given), newest first; null when there are more than `max` index entries (read none then).
 */
async function entriesUnder(
	db: KithDb,
	prefix: string,
	conversations: ReadonlySet<string> | null,
	max: number
): Promise<string[] | null> {
	if (max <= 0) return null;
	// Every word under the prefix sorts below `prefix + U+FFFF` (words are NFKD letters and digits).
	const ranges =
		conversations === null
			? [{ index: 'words', from: [prefix], to: [prefix + '\uffff'] }]
			: [...conversations].map((c) => ({
					index: 'cwords',
					from: [c, prefix],
					to: [c, prefix + '\uffff']
				}));
	const ids = new Set<string>();
	let left = max;
	for (const r of ranges) {
		const keys = await db.messages
			.where(r.index)
			.between(r.from, r.to, true, false)
			.limit(left + 1)
			.primaryKeys();
		if (keys.length > left) return null;
		left -= keys.length;
		for (const id of keys) ids.add(id);
	}
	return [...ids].sort((a, b) => compareIds(b, a));
}

/** Checks a list of candidate ids, newest first, a growing page at a time. */
class Listed implements Searcher {
	readonly out: StoredMessageRow[] = [];
	#at = 0;
	#page: number;

	constructor(
		private readonly db: KithDb,
		private readonly ids: readonly string[],
		private readonly limit: number,
		first: number,
		private readonly check: (row: StoredMessageRow) => boolean,
		/** Rows already read in this search, by id. */
		private readonly read: ReadonlyMap<string, StoredMessageRow> = new Map()
	) {
		this.#page = first;
	}

	async step(): Promise<boolean> {
		const page = this.ids.slice(this.#at, this.#at + this.#page);
		this.#at += page.length;
		const rows = await rowsOf(this.read, page, (missing) => this.db.messages.bulkGet([...missing]));
		for (const row of rows) {
			if (row && this.check(row)) this.out.push(row);
			if (this.out.length === this.limit) return true;
		}
		this.#page = Math.min(this.#page * 2, MAX_PAGE);
		return this.#at >= this.ids.length;
	}
}

/** Walks every message newest first (by `rank`), a growing page at a time. */
class Walk implements Searcher {
	readonly out: StoredMessageRow[] = [];
	#after = '';
	#page: number;

	constructor(
		private readonly db: KithDb,
		private readonly limit: number,
		first: number,
		private readonly check: (row: StoredMessageRow) => boolean
	) {
		this.#page = first * 2;
	}

	async step(): Promise<boolean> {
		const page = this.#page;
		const rows = await this.db.messages.where('rank').above(this.#after).limit(page).toArray();
		for (const row of rows) {
			if (this.check(row)) this.out.push(row);
			if (this.out.length === this.limit) return true;
		}
		if (rows.length < page) return true;
		this.#after = rows[rows.length - 1]!.rank;
		this.#page = Math.min(page * 2, MAX_PAGE);
		return false;
	}
}

/**
 * Walks the messages of some conversations (or of some people) newest first, one key after the
 * other, by `[conversation_id+rank]` (`[created_by+rank]`); `out` holds the newest `limit` of
 * each, a superset of the newest `limit` of all (the caller sorts).
 */
class KeyWalk implements Searcher {
	readonly out: StoredMessageRow[] = [];
	readonly #left: string[];
	#found = 0;
	#after = '';
	#page: number;
	readonly #first: number;

	constructor(
		private readonly db: KithDb,
		private readonly index: '[conversation_id+rank]' | '[created_by+rank]',
		keys: ReadonlySet<string>,
		private readonly limit: number,
		first: number,
		private readonly check: (row: StoredMessageRow) => boolean
	) {
		this.#left = [...keys];
		this.#first = first * 2;
		this.#page = this.#first;
	}

	async step(): Promise<boolean> {
		const key = this.#left[0];
		if (key === undefined) return true;
		const page = this.#page;
		// Forward is newest first (rank), read in one request per page.
		const rows = await this.db.messages
			.where(this.index)
			.between([key, this.#after], [key, Dexie.maxKey], false, true)
			.limit(page)
			.toArray();
		for (const row of rows) {
			if (this.#found < this.limit && this.check(row)) {
				this.out.push(row);
				this.#found++;
			}
		}
		if (this.#found === this.limit || rows.length < page) {
			this.#left.shift();
			this.#found = 0;
			this.#after = '';
			this.#page = this.#first;
			return this.#left.length === 0;
		}
		this.#after = rows[rows.length - 1]!.rank;
		this.#page = Math.min(page * 2, MAX_PAGE);
		return false;
	}
}

/** A filter-only query: some conversations' or some people's messages, newest first. */
function filtered(
	db: KithDb,
	limit: number,
	first: number,
	check: (row: StoredMessageRow) => boolean,
	authors: ReadonlySet<string> | null,
	conversations: ReadonlySet<string> | null
): Promise<StoredMessageRow[]> {
	// Walk whichever set is smaller: each key is walked until `limit` of its rows pass.
	const byConversation =
		conversations !== null && (authors === null || conversations.size <= authors.size);
	return run(
		byConversation
			? new KeyWalk(db, '[conversation_id+rank]', conversations, limit, first, check)
			: new KeyWalk(db, '[created_by+rank]', authors ?? new Set(), limit, first, check)
	);
}

function matches(
	row: StoredMessageRow,
	words: readonly string[],
	authors: ReadonlySet<string> | null,
	conversations: ReadonlySet<string> | null
): boolean {
	if (row.deleted) return false;
	if (authors !== null && !authors.has(row.created_by)) return false;
	if (conversations !== null && !conversations.has(row.conversation_id)) return false;
	const own = Array.isArray(row.words) ? row.words : [];
	return words.every((w) => own.some((e) => Array.isArray(e) && String(e[0]).startsWith(w)));
}
