/**
 * Checks of the values that enter a document. Each throws a {@link ValidationError} naming
 * what is wrong; the operations call them before they change anything.
 */
import { check } from './errors';
import { isId } from './ids';
import { Limits, Patterns, type FileAttachment } from './schema';

export function checkUserId(userId: unknown, what = 'user id'): asserts userId is string {
	check(
		typeof userId === 'string' && Patterns.userId.test(userId),
		'bad_user_id',
		`The ${what} must be 1–${Limits.userIdMaxChars} characters of A–Z, a–z, 0–9, "-" or "_"; got ${JSON.stringify(userId)}.`
	);
}

export function checkId(id: unknown, what = 'id'): asserts id is string {
	check(
		isId(id),
		'bad_id',
		`The ${what} must be a positive 63-bit integer in decimal; got ${JSON.stringify(id)}.`
	);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

function isTimestamp(value: unknown): value is string {
	if (typeof value !== 'string') return false;
	const parts = TIMESTAMP.exec(value);
	if (!parts || Number.isNaN(Date.parse(value))) return false;
	// Date.parse rolls an impossible day over (2026-02-30 becomes 2 March) where PostgreSQL's
	// timestamptz refuses it: check the day against the length of its month.
	const [, year, month, day] = parts;
	return Number(day) <= new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
}

export function checkTimestamp(value: unknown, what = 'created_at'): asserts value is string {
	check(
		isTimestamp(value),
		'bad_timestamp',
		`${what} must be an ISO-8601 timestamp with a time zone, such as 2026-11-25T14:30:00.000Z; got ${JSON.stringify(value)}.`
	);
}

/**
 * A message's content. Empty is allowed only when the message carries something else (files or
 * a voice recording): a message must say something.
 */
export function checkContent(content: unknown, allowEmpty: boolean): asserts content is string {
	check(typeof content === 'string', 'content_empty', 'The message content must be text.');
	check(
		allowEmpty || content.trim().length > 0,
		'content_empty',
		'The message is empty: write something, or attach a file or a voice message.'
	);
	check(
		content.length <= Limits.contentMaxChars,
		'content_too_long',
		`The message is ${content.length.toLocaleString('en')} characters long; the limit is ${Limits.contentMaxChars.toLocaleString('en')}.`
	);
}

export function checkConversationName(name: unknown): asserts name is string {
	check(
		typeof name === 'string' && name.trim().length > 0 && name.length <= Limits.nameMaxChars,
		'bad_name',
		`A conversation name must be 1–${Limits.nameMaxChars} characters; got ${JSON.stringify(name)}.`
	);
}

export function checkDisplayName(name: unknown): asserts name is string {
	check(
		typeof name === 'string' &&
			name.trim().length > 0 &&
			name.length <= Limits.displayNameMaxChars &&
			// eslint-disable-next-line no-control-regex
			!/[\u0000-\u001f\u007f]/.test(name),
		'bad_display_name',
		`A display name must be 1–${Limits.displayNameMaxChars} characters with no control characters; got ${JSON.stringify(name)}.`
	);
}

export function checkColor(color: unknown): asserts color is string {
	check(
		typeof color === 'string' && Patterns.color.test(color),
		'bad_color',
		`A colour must be a hex colour such as #3b82f6; got ${JSON.stringify(color)}.`
	);
}

export function checkEmoji(emoji: unknown): asserts emoji is string {
	check(
		typeof emoji === 'string' &&
			emoji.length <= Limits.emojiMaxChars &&
			!emoji.includes('|') &&
			Patterns.emoji.test(emoji),
		'bad_emoji',
		`A reaction must be a single emoji such as 👍; got ${JSON.stringify(emoji)}.`
	);
}

const SAME_HOST = 'https://kith.invalid';

function checkUrl(url: unknown, code: 'bad_attachment' | 'bad_audio_url', what: string): void {
	let ok = typeof url === 'string' && url.length > 0 && url.length <= Limits.urlMaxChars;
	if (ok) {
		// Relative URLs point at the relay's blob store; absolute ones must be http(s) or blob:
		// never javascript: or data: (the UI renders these as links and media sources).
		// A relative path must also resolve to the same host: the URL parser reads a backslash as a
		// slash and drops tabs and newlines, so "/\evil.example" and "/<tab>/evil.example" are another host.
		const u = url as string;
		ok = u.startsWith('/')
			? URL.canParse(u, SAME_HOST) && new URL(u, SAME_HOST).origin === SAME_HOST
			: /^(https?:|blob:)/i.test(u) && URL.canParse(u);
	}
	check(
		ok,
		code,
		`${what} must be a relative path or an http(s) URL of at most ${Limits.urlMaxChars} characters; got ${JSON.stringify(url)}.`
	);
}

export function checkAudioUrl(url: unknown): asserts url is string {
	checkUrl(url, 'bad_audio_url', 'A voice message URL');
}

/** One attachment record: every field present and well formed. */
export function checkAttachment(a: unknown, index: number): asserts a is FileAttachment {
	const where = `Attachment ${index + 1}`;
	check(
		typeof a === 'object' && a !== null && !Array.isArray(a),
		'bad_attachment',
		`${where} must be an object.`
	);
	const r = a as Record<string, unknown>;
	for (const field of ['id', 'name', 'type', 'size', 'sha256', 'url'] as const) {
		check(
			field in r && r[field] !== undefined && r[field] !== null,
			'bad_attachment',
			`${where} is missing its "${field}".`
		);
	}
	check(isId(r.id), 'bad_attachment', `${where} has a malformed id ${JSON.stringify(r.id)}.`);
	check(
		typeof r.name === 'string' &&
			r.name.trim().length > 0 &&
			r.name.length <= Limits.fileNameMaxChars,
		'bad_attachment',
		`${where} needs a file name of 1–${Limits.fileNameMaxChars} characters.`
	);
	check(
		typeof r.type === 'string' && Patterns.mimeType.test(r.type),
		'bad_attachment',
		`${where} has a malformed type ${JSON.stringify(r.type)} (expected a MIME type such as image/png).`
	);
	check(
		typeof r.size === 'number' &&
			Number.isSafeInteger(r.size) &&
			r.size >= 0 &&
			r.size <= Limits.attachmentMaxBytes,
		'bad_attachment',
		`${where} has a bad size ${JSON.stringify(r.size)} (a whole number of bytes, at most ${Limits.attachmentMaxBytes}).`
	);
	check(
		typeof r.sha256 === 'string' && Patterns.sha256.test(r.sha256),
		'bad_attachment',
		`${where} has a malformed sha256 (64 lowercase hex digits).`
	);
	checkUrl(r.url, 'bad_attachment', `${where}'s url`);
}

export function checkAttachments(list: unknown): asserts list is FileAttachment[] {
	check(Array.isArray(list), 'bad_attachment', 'file_attachments must be a list.');
	check(
		list.length <= Limits.attachmentsPerMessage,
		'too_many_attachments',
		`A message can carry at most ${Limits.attachmentsPerMessage} files; got ${list.length}.`
	);
	list.forEach((a, i) => checkAttachment(a, i));
}
