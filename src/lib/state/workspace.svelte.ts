import type * as Y from 'yjs';
import {
	readChannels,
	readUsers,
	setProfile,
	workspaceTypes,
	type ChannelRecord,
	type UserRecord
} from '$lib/model';
import { DocSnapshot } from './doc-snapshot.svelte';

/** Colours offered at onboarding: readable on both themes, distinct for most colour vision. */
export const PROFILE_COLORS = [
	{ name: 'Blue', value: '#2563eb' },
	{ name: 'Teal', value: '#0f766e' },
	{ name: 'Green', value: '#15803d' },
	{ name: 'Amber', value: '#b45309' },
	{ name: 'Red', value: '#b91c1c' },
	{ name: 'Pink', value: '#be185d' },
	{ name: 'Purple', value: '#7c3aed' },
	{ name: 'Slate', value: '#475569' }
] as const;

/**
 * The workspace directory: people and public channels, read from the `workspace` document.
 *
 * @example
 * const ws = new WorkspaceDirectory(doc, me);
 * ws.users; ws.channels; ws.name(userId); ws.saveProfile('Ada', '#2563eb')
 */
export class WorkspaceDirectory {
	readonly doc: Y.Doc;
	readonly me: string;
	readonly #users: DocSnapshot<UserRecord[]>;
	readonly #channels: DocSnapshot<ChannelRecord[]>;
	// Rebuilt whole from each snapshot and never mutated: a plain Map is right here.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #byId = $derived(new Map(this.users.map((u) => [u.id, u])));

	constructor(doc: Y.Doc, me: string) {
		this.doc = doc;
		this.me = me;
		// Real Y types before any reader runs in a $derived (see materializeConversation).
		workspaceTypes(doc);
		this.#users = new DocSnapshot(doc, readUsers);
		this.#channels = new DocSnapshot(doc, readChannels);
	}

	/** Everyone, ordered by display name. */
	get users(): UserRecord[] {
		return this.#users.value;
	}

	get channels(): ChannelRecord[] {
		return this.#channels.value;
	}

	get profile(): UserRecord | undefined {
		return this.#byId.get(this.me);
	}

	user(id: string): UserRecord | undefined {
		return this.#byId.get(id);
	}

	/** A person's display name, or a short form of their id before their profile arrives. */
	name(id: string): string {
		return this.#byId.get(id)?.display_name ?? `Someone (${id.slice(0, 6)})`;
	}

	color(id: string): string {
		return this.#byId.get(id)?.color ?? '#64748b';
	}

	saveProfile(displayName: string, color: string, publicKey = ''): UserRecord {
		return setProfile(this.doc, {
			user_id: this.me,
			display_name: displayName,
			color,
			...(publicKey ? { public_key: publicKey } : {})
		});
	}
}
