import { flushSync } from 'svelte';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { DocSnapshot } from '../../../src/lib/state/doc-snapshot.svelte';

function countingReader() {
	const calls = { n: 0 };
	const read = (doc: Y.Doc) => {
		calls.n++;
		return doc.getArray<string>('a').toArray();
	};
	return { calls, read };
}

describe('DocSnapshot', () => {
	it('re-reads once per transaction while an effect observes it, and stops observing after', async () => {
		const doc = new Y.Doc();
		const { calls, read } = countingReader();
		const snap = new DocSnapshot(doc, read);
		const seen: string[][] = [];
		const stop = $effect.root(() => {
			$effect(() => {
				seen.push(snap.value);
			});
		});
		flushSync();
		doc.transact(() => {
			doc.getArray<string>('a').push(['x']);
			doc.getArray<string>('a').push(['y']);
		});
		flushSync();
		// Svelte may re-run the effect while it subscribes; what matters is one read per
		// transaction and never a half-applied transaction.
		expect(seen.at(-1)).toEqual(['x', 'y']);
		expect(seen).not.toContainEqual(['x']);
		expect(calls.n).toBe(2);
		stop();
		await Promise.resolve(); // Svelte unsubscribes in a microtask
		// No observer remains on the document once nothing reads the snapshot.
		expect(doc._observers.get('afterTransaction')?.size ?? 0).toBe(0);
	});

	it('reads afresh outside a reactive context', () => {
		const doc = new Y.Doc();
		const snap = new DocSnapshot(doc, (d) => d.getArray<string>('a').length);
		expect(snap.value).toBe(0);
		doc.getArray<string>('a').push(['x']);
		expect(snap.value).toBe(1);
	});
});
