/**
 * What the client scenarios put on the device: a direct message between the person and a bot
 * with `count` messages, built in Node as Yjs updates in y-indexeddb's layout (the page stores
 * them in IndexedDB, as the app would have after receiving them).
 *
 * Every message is its own transaction with its own Yjs item, as a conversation written over
 * months by two people looks (one `push` of 100,000 records would be one item, which loads far
 * faster than anything a real conversation holds). The two people alternate in runs of 1–4
 * messages, over 100 days; each writes from two devices (the document's client id turns), so
 * Yjs does not merge one person's consecutive items (ContentAny.mergeWith copies the array:
 * quadratic, see bench/load/workload.ts). Messages are inserted at the end through Yjs's search
 * markers (`insert(length, …)`, the same item as `push`).
 */
import * as Y from 'yjs';
import {
	ConversationKey,
	IdGenerator,
	conversationDocName,
	createConversation,
	localOrigin,
	setProfile,
	type MessageRecord
} from '../../src/lib/model/index.ts';

export const BOT_NAME = 'Bench Bot';

/** The bot's profile, as the workspace update that lists them. */
export function botProfileUpdate(bot: string): Uint8Array {
	const ws = new Y.Doc();
	setProfile(ws, {
		user_id: bot,
		display_name: BOT_NAME,
		color: '#0f766e',
		updated_at: '2026-01-01T00:00:00.000Z'
	});
	const update = Y.encodeStateAsUpdate(ws);
	ws.destroy();
	return update;
}

const WORDS =
	'the plan for tomorrow looks fine to me but we should check the numbers again before the release ships and ask the team what they think about it'.split(
		' '
	);

/** Content of message `i`: 20–200 characters, some of it Markdown; unique marker first. */
export function messageText(i: number): string {
	const n = 4 + ((i * 7919) % 30);
	const words: string[] = [];
	for (let k = 0; k < n; k++) words.push(WORDS[(i + k * 13) % WORDS.length]!);
	const body = words.join(' ');
	if (i % 11 === 0) return `m${i} **${body}**`;
	if (i % 17 === 0) return `m${i} ${body} \`code\` and [a link](https://example.com/${i})`;
	if (i % 23 === 0) return `m${i} ${body}\n\nwith a second paragraph`;
	return `m${i} ${body}`;
}

export interface SeededConversation {
	convId: string;
	docName: string;
	doc: Y.Doc;
	count: number;
	newestId: string;
	newestText: string;
	/** When the last message was written (ms since the epoch). */
	lastTime: number;
}

/** Builds the direct message (created by the bot) with `count` messages ending about now. */
export function seedDirectMessage(
	bot: string,
	person: string,
	count: number,
	end = Date.now() - 60_000
): SeededConversation {
	const doc = new Y.Doc();
	const span = 100 * 24 * 3600_000;
	const start = end - span;
	const meta = createConversation(doc, {
		kind: 'dm',
		created_by: bot,
		members: [person],
		created_at: new Date(start).toISOString()
	});
	const base = doc.clientID;
	const messages = doc.getArray<MessageRecord>(ConversationKey.messages);
	let t = start;
	const ids = new IdGenerator(() => t);
	let author = bot;
	let run = 0;
	let newestId = '';
	let newestText = '';
	const step = span / Math.max(1, count);
	for (let i = 1; i <= count; i++) {
		if (run <= 0) {
			author = author === bot ? person : bot;
			run = 1 + ((i * 31) % 4);
		}
		run--;
		t = Math.floor(start + i * step);
		const content = i === count ? `m${i} the newest message of all` : messageText(i);
		const record: MessageRecord = {
			id: ids.next(),
			created_at: new Date(t).toISOString(),
			content,
			created_by: author,
			conversation_id: meta.id,
			file_attachments: [],
			parent_message_id: null,
			audio_url: null
		};
		doc.clientID = base + (author === bot ? 0 : 2) + (i % 2);
		doc.transact(() => messages.insert(messages.length, [record]), localOrigin('post'));
		newestId = record.id;
		newestText = content;
	}
	return {
		convId: meta.id,
		docName: conversationDocName(meta.id),
		doc,
		count,
		newestId,
		newestText,
		lastTime: t
	};
}
