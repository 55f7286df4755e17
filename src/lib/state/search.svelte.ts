import { parseQuery } from '$lib/model';
import type { KithDb } from '$lib/db';
import { handleError } from './errors.svelte';
import { findMessages, type SearchOutcome, type SearchProblem, type SearchResult } from './search';
import type { ConversationList } from './conversation-list.svelte';
import type { WorkspaceDirectory } from './workspace.svelte';

export type { SearchOutcome, SearchProblem, SearchResult } from './search';

/**
 * Search across every conversation on the device (the Dexie index; works offline). The query
 * language is {@link parseQuery}'s: words (prefix, accent- and case-insensitive), `from:@name`
 * and `in:#channel` (or `in:@name` for a direct message), quoted when a name has spaces. Only
 * the latest query's results are kept: an older, slower one that resolves later is dropped.
 *
 * @example
 * const search = new MessageSearch(db, session.workspace, session.conversations);
 * await search.run('from:@ada in:#general cafe'); search.results
 */
export class MessageSearch {
	readonly #db: KithDb;
	readonly #directory: WorkspaceDirectory;
	readonly #list: ConversationList;
	#latest = 0;
	#outcome = $state.raw<SearchOutcome>({ results: [], problem: null });
	#searching = $state(false);
	/** What the results are for (after parsing), or '' before any search. */
	#query = $state('');

	constructor(db: KithDb, directory: WorkspaceDirectory, list: ConversationList) {
		this.#db = db;
		this.#directory = directory;
		this.#list = list;
	}

	get results(): SearchResult[] {
		return this.#outcome.results;
	}

	get problem(): SearchProblem | null {
		return this.#outcome.problem;
	}

	get searching(): boolean {
		return this.#searching;
	}

	/** The input the current results answer. */
	get query(): string {
		return this.#query;
	}

	/** Searches; an empty query clears the results. */
	async run(input: string, limit = 50): Promise<void> {
		const run = ++this.#latest;
		const parsed = parseQuery(input);
		if (parsed.words.length + parsed.from.length + parsed.in.length > 0) this.#searching = true;
		let outcome: SearchOutcome;
		try {
			outcome = await findMessages(this.#db, this.#directory, this.#list.items, parsed, limit);
		} catch (e) {
			if (run === this.#latest) this.#searching = false;
			handleError(e, 'Searching messages');
			return;
		}
		if (run !== this.#latest) return;
		this.#outcome = outcome;
		this.#query = input;
		this.#searching = false;
	}

	clear(): void {
		this.#latest++;
		this.#outcome = { results: [], problem: null };
		this.#query = '';
		this.#searching = false;
	}
}
