/**
 * Helpers for the index and storage tests: a fresh fake IndexedDB per test, a seeded driver of
 * random operations on two replicas, and the comparison of the index with the projection.
 */
import * as Y from 'yjs';
import { randomOperation } from '../../fixtures/workload';
import * as prng from 'lib0/prng';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { expect } from 'vitest';
import {
	createConversation,
	projectConversation,
	purgeDeleted,
	readAllMessages,
	type Origin
} from '../../../src/lib/model';
import { conversationMessages, KithDb, membersOf } from '../../../src/lib/db';
import { alice, idAt, T0 } from '../../fixtures/model';

export const CONVERSATION_ID = '7000';

/** A fresh, empty IndexedDB (nothing shared with other tests). */
export function freshIndexedDb(): IDBFactory {
	return new IDBFactory();
}

/** A Dexie index on its own IndexedDB. */
export function openIndex(factory: IDBFactory = freshIndexedDb(), name = 'kith-test'): KithDb {
	return new KithDb(name, { indexedDB: factory, IDBKeyRange });
}

/** A document holding a fresh channel with alice, bob and carol. */
export function channelDoc(): Y.Doc {
	const doc = new Y.Doc();
	createConversation(doc, {
		kind: 'channel',
		name: 'general',
		created_by: alice,
		members: ['bob', 'carol'],
		id: CONVERSATION_ID,
		created_at: new Date(T0).toISOString()
	});
	return doc;
}

/**
 * Two replicas of one conversation: `local` (the one under test) and `remote` (another device),
 * whose updates reach `local` in a seeded random order, with delays, through `Y.applyUpdate`.
 */
export class TwoReplicas {
	readonly remote = new Y.Doc();
	readonly gen: ReturnType<typeof prng.create>;
	#toLocal: Uint8Array[] = [];
	#toRemote: Uint8Array[] = [];
	#tick = 0;
	performed = 0;

	constructor(
		readonly local: Y.Doc,
		seed: number
	) {
		this.gen = prng.create(seed);
		local.on('update', (u: Uint8Array, origin: unknown) => {
			if ((origin as Origin | null)?.kind !== 'remote') this.#toRemote.push(u);
		});
		this.remote.on('update', (u: Uint8Array, origin: unknown) => {
			if ((origin as Origin | null)?.kind !== 'remote') this.#toLocal.push(u);
		});
		Y.applyUpdate(this.remote, Y.encodeStateAsUpdate(local), { kind: 'remote', source: 'local' });
	}

	/** One random step: an operation on either replica, or the delivery of some updates. */
	step(): void {
		const roll = prng.int32(this.gen, 0, 99);
		if (roll < 45) this.operate(this.local);
		else if (roll < 70) this.operate(this.remote);
		else if (roll < 85) this.#deliver(this.#toLocal, this.local, 'remote');
		else this.#deliver(this.#toRemote, this.remote, 'local');
	}

	/** Delivers everything in flight both ways, then purges leftovers of deletes. */
	settle(): void {
		while (this.#toLocal.length + this.#toRemote.length > 0) {
			this.#deliver(this.#toLocal, this.local, 'remote', true);
			this.#deliver(this.#toRemote, this.remote, 'local', true);
		}
		purgeDeleted(this.local);
	}

	#deliver(queue: Uint8Array[], to: Y.Doc, source: string, all = false): void {
		const n = all ? queue.length : prng.int32(this.gen, 0, queue.length);
		for (let i = 0; i < n && queue.length > 0; i++) {
			const update = queue.splice(prng.int32(this.gen, 0, queue.length - 1), 1)[0]!;
			Y.applyUpdate(to, update, { kind: 'remote', source });
		}
	}

	/** A random operation by someone who may make it, as far as `doc` knows. */
	operate(doc: Y.Doc): void {
		const gen = this.gen;
		this.#tick += prng.int32(gen, 1, 3);
		const ms = T0 + 60_000 + this.#tick * 250;
		const stamp = {
			id: idAt(ms, prng.uint32(gen, 0, 2 ** 22 - 1)),
			created_at: new Date(ms).toISOString()
		};
		if (randomOperation(doc, gen, stamp) === 'performed') this.performed++;
	}
}

function byKey<T>(rows: readonly T[], key: (row: T) => string): Record<string, T> {
	const out: Record<string, T> = {};
	for (const row of rows) {
		const k = key(row);
		expect(out[k], `duplicate row ${k}`).toBeUndefined();
		out[k] = row;
	}
	return out;
}

/**
 * Asserts that the index holds exactly the projection of `doc` (rows keyed by id, compared field
 * for field), and that the local columns agree with the readers.
 */
export async function expectIndexEqualsProjection(
	db: KithDb,
	doc: Y.Doc,
	conversationId = CONVERSATION_ID
): Promise<void> {
	const projection = projectConversation(doc);
	const conversation = await db.conversations.get(conversationId);
	const conversations = conversation
		? [
				{
					id: conversation.id,
					created_at: conversation.created_at,
					name: conversation.name,
					created_by: conversation.created_by
				}
			]
		: [];
	expect(byKey(conversations, (c) => c.id)).toEqual(byKey(projection.conversations, (c) => c.id));
	expect(byKey(await membersOf(db, conversationId), (m) => m.user_id)).toEqual(
		byKey(projection.conversation_members, (m) => m.user_id)
	);
	const rows = await conversationMessages(db, conversationId);
	const seed = rows.map(({ edited_at: _e, deleted: _d, ...row }) => row);
	expect(byKey(seed, (m) => m.id)).toEqual(byKey(projection.messages, (m) => m.id));
	const local = Object.fromEntries(rows.map((r) => [r.id, [r.edited_at, r.deleted]]));
	const expected = Object.fromEntries(
		readAllMessages(doc).map((m) => [m.id, [m.edited_at, m.deleted_at !== null]])
	);
	expect(local).toEqual(expected);
}
