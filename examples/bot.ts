/**
 * A Kith bot with nothing but a standard y-websocket 3 client and plain yjs
 * (docs/PROTOCOL.md, "Documents"): it joins a conversation, prints its messages, and posts one.
 *
 *   npm run token -- my-bot                       # prints a token for user id "my-bot"
 *   RELAY=ws://localhost:8787/sync TOKEN=… USER_ID=my-bot CONV=<conversation id> \
 *     ./node_modules/.bin/tsx examples/bot.ts "Hello from a bot"
 *
 * The bot must be a member of the conversation (someone adds it, or it joins a public channel
 * by adding itself to `members`, which the relay allows for channels only).
 */
import * as Y from 'yjs';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';

const relay = process.env.RELAY ?? 'ws://localhost:8787/sync';
const token = process.env.TOKEN ?? '';
const userId = process.env.USER_ID ?? '';
const convId = process.env.CONV ?? '';
const text = process.argv[2] ?? 'Hello from a bot';

/** A message record exactly as Kith stores it in the `messages` Y.Array (plain JSON). */
interface MessageRecord {
	id: string;
	created_at: string;
	content: string;
	created_by: string;
	conversation_id: string;
	file_attachments: unknown[];
	parent_message_id: string | null;
	audio_url: string | null;
	deleted_at?: string;
}

/** A time-ordered int8 id as a decimal string: ms since 2024-01-01 << 22 | 22 random bits. */
function newId(): string {
	const ms = BigInt(Date.now() - Date.UTC(2024, 0, 1));
	return ((ms << 22n) | BigInt(Math.floor(Math.random() * 2 ** 22))).toString();
}

const doc = new Y.Doc();
const provider = new WebsocketProvider(relay, `conv:${convId}`, doc, {
	params: { token },
	// Node 20 has no global WebSocket; and no BroadcastChannel chatter between bots.
	WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
	disableBc: true
});
provider.on('connection-close', (event) => {
	if (event && event.code >= 4400) {
		console.error(`relay closed the connection: ${event.code} ${event.reason}`);
		process.exit(1);
	}
});

provider.once('sync', () => {
	const meta = doc.getMap('meta');
	const members = doc.getMap('members');
	const messages = doc.getArray<MessageRecord>('messages');
	const edits = doc.getMap<{ content: string }>('edits');
	console.log(`# ${String(meta.get('name') ?? 'direct message')} (${members.size} members)`);
	for (const m of messages.toArray()) {
		if (m.deleted_at) continue;
		console.log(`${m.created_at} ${m.created_by}: ${edits.get(m.id)?.content ?? m.content}`);
	}
	if (!members.has(userId)) {
		console.error(`${userId} is not a member of conv:${convId}`);
		process.exit(1);
	}
	const record: MessageRecord = {
		id: newId(),
		created_at: new Date().toISOString(),
		content: text,
		created_by: userId,
		conversation_id: convId,
		file_attachments: [],
		parent_message_id: null,
		audio_url: null
	};
	messages.push([record]);
	console.log(`posted ${record.id}`);
	// Give the relay a moment to store and forward, then leave.
	setTimeout(() => {
		provider.destroy();
		process.exit(0);
	}, 300);
});

setTimeout(() => {
	console.error('timed out');
	process.exit(1);
}, 15_000).unref();
