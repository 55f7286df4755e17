import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import { projectUserStatus, workspaceTypes, type PresenceState } from '$lib/model';
import { recordUserStatus, type KithDb } from '$lib/db';

/**
 * Keeps the seed's `user_status` in the device's Dexie index from the workspace awareness: one
 * row per known person, `is_online` now and `last_seen` when they were last present, so that
 * "last seen" survives a reload and the relay being away. Writes at most every `delayMs`
 * (awareness changes on every keystroke of anyone typing).
 *
 * @example const stop = recordPresence(db, awareness, workspaceDoc, me)
 */
export function recordPresence(
	db: KithDb,
	awareness: Awareness,
	workspace: Y.Doc,
	me: string,
	options: { delayMs?: number; onError?: (error: unknown) => void } = {}
): () => void {
	const delay = options.delayMs ?? 500;
	let timer: ReturnType<typeof setTimeout> | undefined;
	let last = '';
	const write = () => {
		timer = undefined;
		const online = new Set<string>([me]);
		for (const state of awareness.getStates().values()) {
			const id = (state as Partial<PresenceState>).user?.id;
			if (typeof id === 'string') online.add(id);
		}
		const users = [...workspaceTypes(workspace).users.keys(), ...online];
		const rows = projectUserStatus(users, online);
		// Only what changed who is online is worth a write (typing changes awareness too).
		const key = rows.map((r) => `${r.user_id}:${r.is_online}`).join(',');
		if (key === last) return;
		last = key;
		recordUserStatus(db, rows).catch((e: unknown) => {
			last = '';
			options.onError?.(e);
		});
	};
	const schedule = () => {
		timer ??= setTimeout(write, delay);
	};
	awareness.on('change', schedule);
	workspaceTypes(workspace).users.observe(schedule);
	schedule();
	return () => {
		clearTimeout(timer);
		awareness.off('change', schedule);
		workspaceTypes(workspace).users.unobserve(schedule);
	};
}
