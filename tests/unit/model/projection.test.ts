import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	deleteMessage,
	postMessage,
	postReply,
	projectConversation,
	projectUserStatus,
	toggleReaction,
	userStatusId,
	type ConversationProjection
} from '../../../src/lib/model';
import { alice, attachment, bob, carol, conversation, people } from '../../fixtures/model';
import { Network } from '../../fixtures/replicas';
import { seedSchema, type SeedColumn, type SeedTable } from '../../fixtures/seed-schema';

const INT8_MAX = 2n ** 63n - 1n;

/** Why `value` is not a valid value of a seed column, or null when it is. */
function typeError(value: unknown, column: SeedColumn): string | null {
	if (value === null) return column.nullable ? null : 'null in a column Kith never leaves empty';
	switch (column.type) {
		case 'int8':
			return typeof value === 'string' &&
				/^[1-9][0-9]{0,18}$/.test(value) &&
				BigInt(value) <= INT8_MAX
				? null
				: 'not a decimal positive int8';
		case 'timestamptz':
			return typeof value === 'string' &&
				/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
				!Number.isNaN(Date.parse(value))
				? null
				: 'not an ISO-8601 timestamp with a zone';
		case 'bool':
			return typeof value === 'boolean' ? null : 'not a boolean';
		case 'text':
			return typeof value === 'string' ? null : 'not text';
		case 'jsonb':
			return JSON.stringify(JSON.parse(JSON.stringify(value))) === JSON.stringify(value) &&
				isPlainJson(value)
				? null
				: 'not a JSON value';
	}
}

function isPlainJson(value: unknown): boolean {
	if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
	if (typeof value === 'number') return Number.isFinite(value);
	if (Array.isArray(value)) return value.every(isPlainJson);
	if (typeof value === 'object') {
		return (
			Object.getPrototypeOf(value) === Object.prototype &&
			Object.values(value).every((v) => v !== undefined && isPlainJson(v))
		);
	}
	return false;
}

/** Asserts that every row of `table` has exactly the seed's columns, each well typed. */
function expectSeedRows(table: SeedTable, rows: readonly object[]): void {
	const columns = seedSchema[table] as Record<string, SeedColumn>;
	for (const row of rows) {
		expect(Object.keys(row).sort()).toEqual(Object.keys(columns).sort());
		for (const [name, column] of Object.entries(columns)) {
			const value = (row as Record<string, unknown>)[name];
			expect(typeError(value, column), `${table}.${name} = ${JSON.stringify(value)}`).toBeNull();
		}
	}
}

function expectRelationships(p: ConversationProjection): void {
	expect(p.conversations).toHaveLength(1);
	const id = p.conversations[0]!.id;
	const messages = new Map(p.messages.map((m) => [m.id, m]));
	expect(messages.size).toBe(p.messages.length);
	for (const m of p.messages) {
		expect(m.conversation_id).toBe(id);
		if (m.parent_message_id !== null) {
			const parent = messages.get(m.parent_message_id);
			expect(parent, `the parent of ${m.id}`).toBeDefined();
			expect(parent!.conversation_id).toBe(m.conversation_id);
			expect(parent!.parent_message_id).toBeNull();
		}
	}
	for (const member of p.conversation_members) expect(member.conversation_id).toBe(id);
	expect(new Set(p.conversation_members.map((m) => m.user_id)).size).toBe(
		p.conversation_members.length
	);
}

describe('projectConversation', () => {
	it('projects a document onto exactly the seed’s tables, columns and types', () => {
		const { doc, meta } = conversation();
		const m = postMessage(doc, {
			content: 'hello',
			created_by: bob,
			file_attachments: [attachment()]
		});
		postMessage(doc, { content: '', created_by: carol, audio_url: '/blobs/voice' });
		const r = postReply(doc, m.id, { content: 'hi', created_by: alice });
		toggleReaction(doc, m.id, { emoji: '👍', user_id: carol });
		deleteMessage(doc, r.id, { deleted_by: alice });
		const p = projectConversation(doc);
		expect(Object.keys(p).sort()).toEqual(['conversation_members', 'conversations', 'messages']);
		expectSeedRows('conversations', p.conversations);
		expectSeedRows('conversation_members', p.conversation_members);
		expectSeedRows('messages', p.messages);
		expectRelationships(p);
		expect(p.conversations).toEqual([
			{ id: meta.id, created_at: meta.created_at, name: 'general', created_by: alice }
		]);
		expect(p.messages.find((x) => x.id === m.id)).toMatchObject({
			reactions: { '👍': [carol] },
			file_attachments: [attachment()],
			parent_message_id: null,
			audio_url: null
		});
		expect(p.messages.find((x) => x.id === r.id)).toMatchObject({
			content: '',
			parent_message_id: m.id
		});
	});

	it('projects a direct message with a null name', () => {
		const { doc } = conversation({ kind: 'dm', created_by: alice, members: [bob] });
		const p = projectConversation(doc);
		expectSeedRows('conversations', p.conversations);
		expect(p.conversations[0]?.name).toBeNull();
		expect(p.conversation_members.map((m) => m.user_id)).toEqual([alice, bob]);
	});

	it('projects a document that holds no conversation yet to no rows', () => {
		expect(projectConversation(new Y.Doc())).toEqual({
			conversations: [],
			conversation_members: [],
			messages: []
		});
	});

	it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
		'keeps every row to the seed’s schema and relationships after a random workload (seed %i)',
		(seed) => {
			const net = new Network(1000 + seed, { replicas: 3 });
			for (let i = 0; i < 150; i++) net.step();
			net.flush();
			const p = projectConversation(net.replicas[seed % 3]!.doc);
			expect(p.messages.length).toBeGreaterThan(5);
			expectSeedRows('conversations', p.conversations);
			expectSeedRows('conversation_members', p.conversation_members);
			expectSeedRows('messages', p.messages);
			expectRelationships(p);
			expect(projectConversation(net.replicas[seed % 3]!.doc)).toEqual(p);
		}
	);
});

describe('projectUserStatus', () => {
	it('gives one well-typed row per person, online when present', () => {
		const rows = projectUserStatus([carol, ...people, alice], new Set([bob, 'someone-else']));
		expectSeedRows('user_status', rows);
		expect(rows.map((r) => r.user_id)).toEqual([...people].sort());
		expect(rows.filter((r) => r.is_online).map((r) => r.user_id)).toEqual([bob]);
		expect(rows.find((r) => r.user_id === alice)?.id).toBe(userStatusId(alice));
		expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
	});

	it('gives no rows for nobody', () => {
		expect(projectUserStatus([], new Set())).toEqual([]);
	});
});

describe('the check of rows against the seed', () => {
	it.each<[string, unknown, SeedColumn]>([
		['an id as a number', 42, { type: 'int8' }],
		['an id of 2^63', (2n ** 63n).toString(), { type: 'int8' }],
		['a null id', null, { type: 'int8' }],
		['a timestamp without a zone', '2026-01-01T00:00:00', { type: 'timestamptz' }],
		['a flag as text', 'true', { type: 'bool' }],
		['text as a number', 1, { type: 'text' }],
		['jsonb holding undefined', { a: undefined }, { type: 'jsonb' }],
		['jsonb holding a date', { at: new Date(0) }, { type: 'jsonb' }]
	])('catches %s', (_title, value, column) => {
		expect(typeError(value, column)).not.toBeNull();
	});
});
