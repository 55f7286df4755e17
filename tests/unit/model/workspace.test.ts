import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import {
	listChannel,
	localOrigin,
	readChannels,
	readUsers,
	setProfile,
	workspaceTypes
} from '../../../src/lib/model';
import { alice, at, bob, carol, conversation, transactionsOf } from '../../fixtures/model';

describe('setProfile', () => {
	it('writes one’s own entry in one transaction', () => {
		const ws = new Y.Doc();
		const { result, origins } = transactionsOf(ws, () =>
			setProfile(ws, {
				user_id: alice,
				display_name: ' Alice ',
				color: '#3b82f6',
				updated_at: at(1)
			})
		);
		expect(origins).toEqual([localOrigin('set-profile')]);
		expect(result).toEqual({
			id: alice,
			display_name: 'Alice',
			color: '#3b82f6',
			public_key: '',
			created_at: at(1),
			updated_at: at(1)
		});
		expect(readUsers(ws)).toEqual([result]);
	});

	it('keeps the first creation time and a known public key across updates', () => {
		const ws = new Y.Doc();
		setProfile(ws, {
			user_id: alice,
			display_name: 'Alice',
			color: '#3b82f6',
			public_key: 'pk_A-1',
			updated_at: at(1)
		});
		const later = setProfile(ws, {
			user_id: alice,
			display_name: 'Ada',
			color: '#000000',
			updated_at: at(2)
		});
		expect(later).toMatchObject({
			display_name: 'Ada',
			public_key: 'pk_A-1',
			created_at: at(1),
			updated_at: at(2)
		});
		expect(workspaceTypes(ws).users.size).toBe(1);
	});

	it('orders people by display name, case folded, then id', () => {
		const ws = new Y.Doc();
		setProfile(ws, { user_id: carol, display_name: 'bea', color: '#111111' });
		setProfile(ws, { user_id: alice, display_name: 'Zoe', color: '#111111' });
		setProfile(ws, { user_id: bob, display_name: 'Bea', color: '#111111' });
		expect(readUsers(ws).map((u) => u.id)).toEqual([bob, carol, alice]);
	});
});

describe('listChannel', () => {
	it('lists a channel in the workspace in one transaction', () => {
		const ws = new Y.Doc();
		const { meta } = conversation({ kind: 'channel', name: 'general' });
		const { result, origins } = transactionsOf(ws, () => listChannel(ws, meta));
		expect(origins).toEqual([localOrigin('create-conversation')]);
		expect(result).toEqual({
			id: meta.id,
			name: 'general',
			created_at: meta.created_at,
			created_by: alice
		});
		expect(readChannels(ws)).toEqual([result]);
	});

	it('orders channels by name', () => {
		const ws = new Y.Doc();
		listChannel(ws, conversation({ name: 'random' }).meta);
		listChannel(ws, conversation({ name: 'general' }).meta);
		expect(readChannels(ws).map((c) => c.name)).toEqual(['general', 'random']);
	});
});
