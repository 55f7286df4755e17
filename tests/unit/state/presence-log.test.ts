import 'fake-indexeddb/auto';
import * as Y from 'yjs';
import {
	Awareness,
	applyAwarenessUpdate,
	encodeAwarenessUpdate,
	removeAwarenessStates
} from 'y-protocols/awareness';
import { describe, expect, it } from 'vitest';
import { KithDb, userStatus } from '../../../src/lib/db';
import { setProfile, userStatusId } from '../../../src/lib/model';
import { recordPresence } from '../../../src/lib/state/presence-log';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recordPresence', () => {
	it('keeps user_status in Dexie: online while present, last seen kept after leaving', async () => {
		const db = new KithDb(`presence-${Math.random()}`);
		const workspace = new Y.Doc();
		setProfile(workspace, { user_id: 'ada', display_name: 'Ada', color: '#2563eb' });
		setProfile(workspace, { user_id: 'bo', display_name: 'Bo', color: '#be185d' });
		const mine = new Awareness(workspace);
		// Bo's device, whose awareness reaches Ada's through the relay.
		const bosDoc = new Y.Doc();
		const bos = new Awareness(bosDoc);
		bos.setLocalStateField('user', { id: 'bo', name: 'Bo', color: '#be185d' });
		applyAwarenessUpdate(mine, encodeAwarenessUpdate(bos, [bosDoc.clientID]), 'relay');

		const stop = recordPresence(db, mine, workspace, 'ada', { delayMs: 10 });
		await wait(100);
		const online = await userStatus(db, 'bo');
		expect(online).toMatchObject({ id: userStatusId('bo'), user_id: 'bo', is_online: true });
		expect(online?.last_seen).not.toBeNull();
		expect(await userStatus(db, 'ada')).toMatchObject({ is_online: true });

		removeAwarenessStates(mine, [bosDoc.clientID], 'relay');
		await wait(100);
		const gone = await userStatus(db, 'bo');
		expect(gone).toMatchObject({ is_online: false, last_seen: online?.last_seen });
		stop();
		db.close();
	});
});
