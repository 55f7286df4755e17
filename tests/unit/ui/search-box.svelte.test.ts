import { describe, expect, it, vi } from 'vitest';
import type { KithDb } from '../../../src/lib/db';
import { SearchSchedule } from '../../../src/lib/components/search-schedule';
import type { SearchOutcome } from '../../../src/lib/state/search';
import type { ConversationList } from '../../../src/lib/state/conversation-list.svelte';
import type { WorkspaceDirectory } from '../../../src/lib/state/workspace.svelte';

// Each query answers when the test says so: an older, slower query can finish after a newer one.
const answers = new Map<string, (outcome: SearchOutcome) => void>();
vi.mock('../../../src/lib/state/search', () => ({
	findMessages: (_db: unknown, _dir: unknown, _list: unknown, parsed: { words: string[] }) =>
		new Promise<SearchOutcome>((resolve) => answers.set(parsed.words.join(' '), resolve))
}));
const { MessageSearch } = await import('../../../src/lib/state/search.svelte');

const outcome = (id: string): SearchOutcome => ({
	results: [{ id } as SearchOutcome['results'][number]],
	problem: null
});

describe('the search box with its search', () => {
	it('never lets a slower, older query overwrite the results of a newer one', async () => {
		vi.useFakeTimers();
		try {
			const search = new MessageSearch(
				{} as KithDb,
				{} as WorkspaceDirectory,
				{ items: [] } as unknown as ConversationList
			);
			const schedule = new SearchSchedule((text) => search.run(text), 60);
			schedule.input('c'); // at once
			schedule.input('cafe'); // waits for 'c', which is slow: searched after 60 ms
			expect([...answers.keys()]).toEqual(['c']);
			vi.advanceTimersByTime(60);
			expect([...answers.keys()]).toEqual(['c', 'cafe']);

			answers.get('cafe')!(outcome('newer'));
			await vi.waitFor(() => expect(search.query).toBe('cafe'));
			answers.get('c')!(outcome('older'));
			await Promise.resolve();
			await Promise.resolve();
			expect(search.results.map((r) => r.id)).toEqual(['newer']);
			expect(search.query).toBe('cafe');
			expect(search.searching).toBe(false);
		} finally {
			vi.useRealTimers();
		}
	});
});
