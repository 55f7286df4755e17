/**
 * Screenshots of the main screens for docs/screenshots/ (README "Screens"): light and dark,
 * desktop and phone width, with a seeded conversation between three people.
 *
 *     ./node_modules/.bin/vite build && npx tsx tests/e2e/take-screenshots.ts
 *
 * Not a test (it asserts nothing and rewrites images): it serves build/ with vite preview on
 * its own port and drives Debian's Chromium like the e2e suite.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';
import * as Y from 'yjs';
import {
	ConversationKey,
	IdGenerator,
	WorkspaceKey,
	conversationDocName,
	fromBase64Url,
	hashId,
	reactionKey,
	userIdFromPublicKey,
	type EditRecord,
	type MessageRecord,
	type UserRecord
} from '../../src/lib/model';
import { storeUpdate } from './helpers';

const PORT = 4174;
const BASE = `http://127.0.0.1:${PORT}`;
const OUT = 'docs/screenshots';
const GENERAL_ID = hashId('kith-channel\ngeneral');
const BO = 'boBBBBBBBBBBBBBBBBBBBB';
const CY = 'cyCCCCCCCCCCCCCCCCCCCC';

function people(): Uint8Array {
	const doc = new Y.Doc();
	const at = new Date(Date.now() - 3 * 86_400_000).toISOString();
	const users = doc.getMap<UserRecord>(WorkspaceKey.users);
	users.set(BO, {
		id: BO,
		display_name: 'Bo Tanaka',
		color: '#be185d',
		public_key: '',
		created_at: at,
		updated_at: at
	});
	users.set(CY, {
		id: CY,
		display_name: 'Cy Okafor',
		color: '#0f766e',
		public_key: '',
		created_at: at,
		updated_at: at
	});
	return Y.encodeStateAsUpdate(doc);
}

function conversation(me: string): Uint8Array {
	const doc = new Y.Doc();
	const now = Date.now();
	let t = now;
	const ids = new IdGenerator(() => t);
	const lines: Array<[string, number, string]> = [
		[BO, -26 * 60, 'Morning all! The **relay** is deployed on the staging box.'],
		[CY, -26 * 60 + 2, 'Nice. Does it keep history when it restarts?'],
		[BO, -26 * 60 + 3, 'Yes, everything lands in the data folder (SQLite, WAL mode).'],
		[me, -95, 'I am writing the release notes. Anything I should not forget?'],
		[CY, -90, 'Offline sending: a message written on the train goes out on reconnect.'],
		[CY, -89, 'And reactions sync both ways 🎉'],
		[
			BO,
			-42,
			'Checklist for Friday:\n- tag `v0.1.0`\n- screenshots in the README\n- see https://example.com/release'
		],
		[me, -12, 'On it. I will post the draft here before lunch.'],
		[BO, -3, 'Perfect, thanks!']
	];
	const records: MessageRecord[] = lines.map(([by, minutes, content]) => {
		t = now + minutes * 60_000;
		return {
			id: ids.next(),
			created_at: new Date(t).toISOString(),
			content,
			created_by: by,
			conversation_id: GENERAL_ID,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null
		};
	});
	const threadParent = records[6]!;
	const replies: MessageRecord[] = [
		[CY, -40, 'I can take the tag.'],
		[me, -38, 'Thanks, I will do the screenshots.']
	].map(([by, minutes, content]) => {
		t = now + (minutes as number) * 60_000;
		return {
			id: ids.next(),
			created_at: new Date(t).toISOString(),
			content: content as string,
			created_by: by as string,
			conversation_id: GENERAL_ID,
			file_attachments: [],
			parent_message_id: threadParent.id,
			audio_url: null
		};
	});
	const joined = new Date(now - 3 * 86_400_000).toISOString();
	doc.transact(() => {
		const members = doc.getMap(ConversationKey.members);
		for (const id of [BO, CY]) members.set(id, { created_at: joined, added_by: id });
		doc.getArray<MessageRecord>(ConversationKey.messages).push(records);
		doc.getArray<MessageRecord>(ConversationKey.replies).push(replies);
		const reactions = doc.getMap<string>(ConversationKey.reactions);
		for (const [i, emoji, who] of [
			[0, '👋', CY],
			[0, '👋', me],
			[5, '🎉', BO],
			[5, '🎉', me],
			[5, '🎉', CY],
			[8, '🙏', me]
		] as const)
			reactions.set(reactionKey(records[i]!.id, emoji, who), new Date(now - 60_000).toISOString());
		const edit: EditRecord = {
			content: 'Morning all! The **relay** is deployed on the staging box 🚀',
			edited_at: new Date(now - 25 * 3600_000).toISOString(),
			edited_by: BO
		};
		doc.getMap<EditRecord>(ConversationKey.edits).set(records[0]!.id, edit);
	});
	return Y.encodeStateAsUpdate(doc);
}

async function shoot(
	browser: Browser,
	scheme: 'light' | 'dark',
	viewport: { width: number; height: number },
	suffix: string
): Promise<void> {
	const context = await browser.newContext({ colorScheme: scheme, viewport, deviceScaleFactor: 1 });
	const page = await context.newPage();
	await page.goto(BASE);
	await page.getByRole('textbox', { name: 'Display name' }).fill('Ada Lovelace');
	await page.screenshot({ path: `${OUT}/onboarding-${suffix}.png` });
	await page.getByRole('button', { name: 'Continue' }).click();
	await page.getByRole('log', { name: 'general' }).waitFor();
	const stored = await page.evaluate(() => localStorage.getItem('kith:device-key'));
	const me = userIdFromPublicKey(fromBase64Url(JSON.parse(stored!).public_key as string)!);
	await storeUpdate(page, 'workspace', people());
	await storeUpdate(page, conversationDocName(GENERAL_ID), conversation(me));
	await page.reload();
	const log = page.getByRole('log', { name: 'general' });
	await log.getByRole('article').first().waitFor();
	await page.mouse.move(0, viewport.height - 1);
	await page.waitForTimeout(300);
	await page.screenshot({ path: `${OUT}/conversation-${suffix}.png` });
	await log
		.getByRole('article')
		.filter({ hasText: 'Checklist' })
		.getByRole('button', { name: '2 replies' })
		.click();
	await page.getByRole('complementary', { name: 'Thread' }).waitFor();
	await page.waitForTimeout(300);
	await page.screenshot({ path: `${OUT}/thread-${suffix}.png` });
	if (viewport.width < 700) {
		await page.getByRole('button', { name: 'Close thread' }).click();
		await page.getByRole('button', { name: 'Open conversations' }).click();
		await page.waitForTimeout(300);
		await page.screenshot({ path: `${OUT}/sidebar-${suffix}.png` });
	} else {
		await page.getByRole('button', { name: 'Close thread' }).click();
		const target = log.getByRole('article').filter({ hasText: 'Perfect, thanks' });
		await target.hover();
		await target.getByRole('button', { name: 'Add reaction' }).click();
		await page.waitForTimeout(800);
		await page.screenshot({ path: `${OUT}/reactions-${suffix}.png` });
	}
	await context.close();
}

async function main(): Promise<void> {
	mkdirSync(OUT, { recursive: true });
	const server = spawn(
		'./node_modules/.bin/vite',
		['preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'],
		{
			stdio: 'ignore'
		}
	);
	try {
		for (let i = 0; i < 50; i++) {
			if (
				await fetch(BASE).then(
					() => true,
					() => false
				)
			)
				break;
			await new Promise((r) => setTimeout(r, 200));
		}
		const executablePath = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
		const browser = await chromium.launch({
			...(executablePath ? { executablePath } : {}),
			args: ['--no-sandbox', '--disable-gpu']
		});
		for (const scheme of ['light', 'dark'] as const) {
			await shoot(browser, scheme, { width: 1280, height: 800 }, `desktop-${scheme}`);
			await shoot(browser, scheme, { width: 360, height: 740 }, `phone-${scheme}`);
		}
		await browser.close();
	} finally {
		server.kill();
	}
}

await main();
