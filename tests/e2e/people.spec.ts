import { expect, test } from '@playwright/test';
import * as Y from 'yjs';
import {
	ConversationKey,
	IdGenerator,
	WorkspaceKey,
	conversationDocName,
	hashId,
	type MessageRecord,
	type UserRecord
} from '../../src/lib/model';
import { messageLog, onboard, storeUpdate } from './helpers';

const GENERAL_ID = hashId('kith-channel\ngeneral');
const BO = 'boBBBBBBBBBBBBBBBBBBBB';

/** Bo's profile, as it would arrive from the relay. */
function boJoins(): Uint8Array {
	const doc = new Y.Doc();
	const at = new Date().toISOString();
	doc.getMap<UserRecord>(WorkspaceKey.users).set(BO, {
		id: BO,
		display_name: 'Bo Tanaka',
		color: '#be185d',
		public_key: '',
		created_at: at,
		updated_at: at
	});
	return Y.encodeStateAsUpdate(doc);
}

/** Bo joins #general and writes two messages there. */
function boWrites(): Uint8Array {
	const doc = new Y.Doc();
	const ids = new IdGenerator();
	const at = new Date().toISOString();
	doc.transact(() => {
		doc.getMap(ConversationKey.members).set(BO, { created_at: at, added_by: BO });
		doc.getArray<MessageRecord>(ConversationKey.messages).push(
			['are you there?', 'ping'].map((content) => ({
				id: ids.next(),
				created_at: at,
				content,
				created_by: BO,
				conversation_id: GENERAL_ID,
				file_attachments: [],
				parent_message_id: null,
				audio_url: null
			}))
		);
	});
	return Y.encodeStateAsUpdate(doc);
}

test('a person starts a direct message, adds someone to a channel, and sees unread counts', async ({
	page
}) => {
	await onboard(page, 'Ada');
	await storeUpdate(page, 'workspace', boJoins());
	await page.reload();
	const nav = page.getByRole('navigation', { name: 'Conversations' });
	await expect(nav.getByRole('listitem').filter({ hasText: 'Bo Tanaka' })).toContainText('offline');

	await nav.getByRole('button', { name: 'New direct message' }).click();
	await page
		.getByRole('dialog', { name: 'New direct message' })
		.getByRole('button', { name: /Bo Tanaka/ })
		.click();
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Bo Tanaka');
	await expect(page.getByRole('main')).toContainText('offline');
	await expect(nav.getByRole('link', { name: /Bo Tanaka/ })).toHaveAttribute(
		'aria-current',
		'page'
	);
	await expect(nav.getByRole('link', { name: /Bo Tanaka/ })).toContainText('offline');
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill('hi Bo');
	await box.press('Enter');
	await expect(messageLog(page, 'Bo Tanaka').getByRole('article')).toContainText('hi Bo');

	await nav.getByRole('button', { name: 'New channel' }).click();
	const create = page.getByRole('dialog', { name: 'New channel' });
	await create.getByRole('textbox', { name: 'Channel name' }).fill('design');
	await create.getByRole('button', { name: 'Create channel' }).click();
	await expect(page.getByText('1 member')).toBeVisible();
	await page.getByRole('button', { name: 'Add people' }).click();
	const add = page.getByRole('dialog', { name: 'Add people to #design' });
	await add.getByRole('checkbox', { name: /Bo Tanaka/ }).check();
	await add.getByRole('button', { name: 'Add' }).click();
	await expect(page.getByText('2 members')).toBeVisible();

	// Bo writes in #general while Ada reads #design: #general shows two unread messages.
	await storeUpdate(page, conversationDocName(GENERAL_ID), boWrites());
	await page.reload();
	await expect(nav.getByRole('link', { name: 'general' })).toContainText('2 unread messages');
	await nav.getByRole('link', { name: 'general' }).click();
	await expect(messageLog(page)).toContainText('ping');
	await expect(nav.getByRole('link', { name: 'general' })).not.toContainText('unread');
});
