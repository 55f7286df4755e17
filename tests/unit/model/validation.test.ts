import * as Y from 'yjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	addMember,
	checkEmoji,
	createConversation,
	deleteMessage,
	editMessage,
	Limits,
	listChannel,
	postMessage,
	postReply,
	postVoiceMessage,
	removeMember,
	setProfile,
	toggleReaction,
	ValidationError,
	type FileAttachment,
	type ValidationCode
} from '../../../src/lib/model';
import {
	alice,
	at,
	attachment,
	bob,
	carol,
	conversation,
	dave,
	transactionsOf
} from '../../fixtures/model';
import { rgiEmoji } from '../../fixtures/emoji';

/** Asserts that `fn` is refused with `code` and leaves the document untouched. */
function expectRefused(doc: Y.Doc, fn: () => unknown, code: ValidationCode): void {
	const before = Y.encodeStateVector(doc);
	let error: unknown;
	const { origins } = transactionsOf(doc, () => {
		try {
			fn();
		} catch (e) {
			error = e;
		}
	});
	expect(error).toBeInstanceOf(ValidationError);
	expect((error as ValidationError).code).toBe(code);
	expect((error as ValidationError).message.length).toBeGreaterThan(10);
	expect(origins).toEqual([]);
	expect(Y.encodeStateVector(doc)).toEqual(before);
}

/** A channel (alice, bob, carol) with a message by bob, a reply by carol and a deleted one. */
function scene() {
	const { doc, meta } = conversation();
	const message = postMessage(doc, { content: 'hello', created_by: bob, id: '1000' });
	const reply = postReply(doc, message.id, { content: 'hi', created_by: carol, id: '1001' });
	const gone = postMessage(doc, { content: 'oops', created_by: bob, id: '1002' });
	deleteMessage(doc, gone.id, { deleted_by: bob });
	return { doc, meta, message, reply, gone };
}

type Scene = ReturnType<typeof scene>;
type Case = [title: string, code: ValidationCode, op: (s: Scene) => unknown];

const post = (s: Scene, extra: Record<string, unknown>) =>
	postMessage(s.doc, { content: 'x', created_by: bob, ...extra } as Parameters<
		typeof postMessage
	>[1]);
const withAttachment = (a: unknown) => (s: Scene) =>
	post(s, { file_attachments: [a as FileAttachment] });
const withoutField = (field: keyof FileAttachment) => {
	const a: Partial<FileAttachment> = attachment();
	delete a[field];
	return withAttachment(a);
};

const cases: Case[] = [
	['empty content', 'content_empty', (s) => post(s, { content: '' })],
	['whitespace-only content', 'content_empty', (s) => post(s, { content: ' \n\t\u00a0 ' })],
	['content that is not text', 'content_empty', (s) => post(s, { content: 42 })],
	[
		'content one character over the limit',
		'content_too_long',
		(s) => post(s, { content: 'a'.repeat(Limits.contentMaxChars + 1) })
	],
	[
		'oversized content even with an attachment',
		'content_too_long',
		(s) =>
			post(s, { content: 'a'.repeat(Limits.contentMaxChars + 1), file_attachments: [attachment()] })
	],
	['a post by someone who is not a member', 'not_a_member', (s) => post(s, { created_by: dave })],
	['a malformed author id', 'bad_user_id', (s) => post(s, { created_by: 'bob smith' })],
	['an empty author id', 'bad_user_id', (s) => post(s, { created_by: '' })],
	[
		'an author id over 64 characters',
		'bad_user_id',
		(s) => post(s, { created_by: 'a'.repeat(65) })
	],
	['a message id with a leading zero', 'bad_id', (s) => post(s, { id: '0123' })],
	['a message id of zero', 'bad_id', (s) => post(s, { id: '0' })],
	['a negative message id', 'bad_id', (s) => post(s, { id: '-5' })],
	['a message id of 2^63', 'bad_id', (s) => post(s, { id: (2n ** 63n).toString() })],
	['a message id that is a number', 'bad_id', (s) => post(s, { id: 5 })],
	['a message id in hex', 'bad_id', (s) => post(s, { id: '0x10' })],
	[
		'a timestamp without a zone',
		'bad_timestamp',
		(s) => post(s, { created_at: '2026-01-01T10:00:00' })
	],
	['a date without a time', 'bad_timestamp', (s) => post(s, { created_at: '2026-01-01' })],
	[
		'a timestamp in another format',
		'bad_timestamp',
		(s) => post(s, { created_at: 'Thu, 01 Jan 2026 10:00:00 GMT' })
	],
	['a thirteenth month', 'bad_timestamp', (s) => post(s, { created_at: '2026-13-01T10:00:00Z' })],
	[
		'the thirtieth of February',
		'bad_timestamp',
		(s) => post(s, { created_at: '2026-02-30T10:00:00Z' })
	],
	[
		'the twenty-ninth of February in a common year',
		'bad_timestamp',
		(s) => post(s, { created_at: '2025-02-29T10:00:00Z' })
	],
	['a timestamp as a number', 'bad_timestamp', (s) => post(s, { created_at: Date.now() })],
	[
		'a reply to an unknown parent',
		'unknown_parent',
		(s) => postReply(s.doc, '999', { content: 'x', created_by: bob })
	],
	[
		'a reply to a malformed parent id',
		'bad_id',
		(s) => postReply(s.doc, 'abc', { content: 'x', created_by: bob })
	],
	[
		'a reply to a reply',
		'reply_to_reply',
		(s) => postReply(s.doc, s.reply.id, { content: 'x', created_by: bob })
	],
	[
		'a reply by someone who is not a member',
		'not_a_member',
		(s) => postReply(s.doc, s.message.id, { content: 'x', created_by: dave })
	],
	[
		'an empty reply',
		'content_empty',
		(s) => postReply(s.doc, s.message.id, { content: '  ', created_by: bob })
	],
	[
		'a malformed emoji',
		'bad_emoji',
		(s) => toggleReaction(s.doc, s.message.id, { emoji: ':+1:', user_id: bob })
	],
	[
		'two emojis as one reaction',
		'bad_emoji',
		(s) => toggleReaction(s.doc, s.message.id, { emoji: '👍👍', user_id: bob })
	],
	[
		'an emoji with text',
		'bad_emoji',
		(s) => toggleReaction(s.doc, s.message.id, { emoji: '👍 yes', user_id: bob })
	],
	[
		'an empty emoji',
		'bad_emoji',
		(s) => toggleReaction(s.doc, s.message.id, { emoji: '', user_id: bob })
	],
	[
		'a reaction by someone who is not a member',
		'not_a_member',
		(s) => toggleReaction(s.doc, s.message.id, { emoji: '👍', user_id: dave })
	],
	[
		'a reaction to an unknown message',
		'unknown_message',
		(s) => toggleReaction(s.doc, '999', { emoji: '👍', user_id: bob })
	],
	[
		'a reaction to a deleted message',
		'message_deleted',
		(s) => toggleReaction(s.doc, s.gone.id, { emoji: '👍', user_id: bob })
	],
	[
		'a reaction with a bad timestamp',
		'bad_timestamp',
		(s) =>
			toggleReaction(s.doc, s.message.id, { emoji: '👍', user_id: bob, created_at: 'yesterday' })
	],
	[
		'an edit by someone else',
		'not_the_author',
		(s) => editMessage(s.doc, s.message.id, { content: 'x', edited_by: alice })
	],
	[
		'an edit to empty text',
		'content_empty',
		(s) => editMessage(s.doc, s.message.id, { content: '', edited_by: bob })
	],
	[
		'an edit over the limit',
		'content_too_long',
		(s) =>
			editMessage(s.doc, s.message.id, {
				content: 'b'.repeat(Limits.contentMaxChars + 1),
				edited_by: bob
			})
	],
	[
		'an edit of an unknown message',
		'unknown_message',
		(s) => editMessage(s.doc, '4242', { content: 'x', edited_by: bob })
	],
	[
		'an edit of a deleted message',
		'message_deleted',
		(s) => editMessage(s.doc, s.gone.id, { content: 'x', edited_by: bob })
	],
	[
		'an edit with a bad timestamp',
		'bad_timestamp',
		(s) =>
			editMessage(s.doc, s.message.id, {
				content: 'x',
				edited_by: bob,
				edited_at: '2026-01-01 10:00'
			})
	],
	[
		'a delete by someone else',
		'not_the_author',
		(s) => deleteMessage(s.doc, s.message.id, { deleted_by: carol })
	],
	['a delete of a malformed id', 'bad_id', (s) => deleteMessage(s.doc, '', { deleted_by: bob })],
	[
		'a delete with a bad timestamp',
		'bad_timestamp',
		(s) => deleteMessage(s.doc, s.message.id, { deleted_by: bob, deleted_at: 'now' })
	],
	...(['id', 'name', 'type', 'size', 'sha256', 'url'] as const).map((field): Case => [
		`an attachment missing its ${field}`,
		'bad_attachment',
		withoutField(field)
	]),
	[
		'an attachment whose name is null',
		'bad_attachment',
		withAttachment(attachment({ name: null as unknown as string }))
	],
	['an attachment that is not an object', 'bad_attachment', withAttachment('photo.png')],
	['an attachment that is an array', 'bad_attachment', withAttachment([])],
	[
		'attachments that are not a list',
		'bad_attachment',
		(s) => post(s, { file_attachments: attachment() })
	],
	[
		'an attachment with a malformed id',
		'bad_attachment',
		withAttachment(attachment({ id: 'abc' }))
	],
	[
		'an attachment with an empty name',
		'bad_attachment',
		withAttachment(attachment({ name: '  ' }))
	],
	[
		'an attachment with a name over the limit',
		'bad_attachment',
		withAttachment(attachment({ name: 'a'.repeat(Limits.fileNameMaxChars + 1) }))
	],
	[
		'an attachment with a malformed type',
		'bad_attachment',
		withAttachment(attachment({ type: 'png' }))
	],
	[
		'an attachment with a negative size',
		'bad_attachment',
		withAttachment(attachment({ size: -1 }))
	],
	[
		'an attachment with a fractional size',
		'bad_attachment',
		withAttachment(attachment({ size: 1.5 }))
	],
	[
		'an attachment over the size limit',
		'bad_attachment',
		withAttachment(attachment({ size: Limits.attachmentMaxBytes + 1 }))
	],
	[
		'an attachment with a size as text',
		'bad_attachment',
		withAttachment(attachment({ size: '12' as unknown as number }))
	],
	[
		'an attachment with an uppercase sha256',
		'bad_attachment',
		withAttachment(attachment({ sha256: 'AB'.repeat(32) }))
	],
	[
		'an attachment with a short sha256',
		'bad_attachment',
		withAttachment(attachment({ sha256: 'ab' }))
	],
	[
		'an attachment with a javascript: url',
		'bad_attachment',
		withAttachment(attachment({ url: 'javascript:alert(1)' }))
	],
	[
		'an attachment with a data: url',
		'bad_attachment',
		withAttachment(attachment({ url: 'data:text/html,<script>' }))
	],
	[
		'an attachment with a protocol-relative url',
		'bad_attachment',
		withAttachment(attachment({ url: '//evil.example/x' }))
	],
	[
		'an attachment with a backslash url that browsers read as another host',
		'bad_attachment',
		withAttachment(attachment({ url: '/\\evil.example/x' }))
	],
	['an attachment with an empty url', 'bad_attachment', withAttachment(attachment({ url: '' }))],
	[
		'an attachment with a url over the limit',
		'bad_attachment',
		withAttachment(attachment({ url: '/' + 'a'.repeat(Limits.urlMaxChars) }))
	],
	[
		'too many attachments',
		'too_many_attachments',
		(s) =>
			post(s, {
				file_attachments: Array.from({ length: Limits.attachmentsPerMessage + 1 }, () =>
					attachment()
				)
			})
	],
	[
		'a voice message with a javascript: url',
		'bad_audio_url',
		(s) =>
			postVoiceMessage(s.doc, { content: '', created_by: bob, audio_url: 'javascript:alert(1)' })
	],
	[
		'a voice message with a data: url',
		'bad_audio_url',
		(s) =>
			postVoiceMessage(s.doc, {
				content: '',
				created_by: bob,
				audio_url: 'data:audio/ogg;base64,AAAA'
			})
	],
	[
		'a voice message with a tab that browsers drop',
		'bad_audio_url',
		(s) =>
			postVoiceMessage(s.doc, { content: '', created_by: bob, audio_url: '/\t/evil.example/a.ogg' })
	],
	[
		'a voice message with an ftp url',
		'bad_audio_url',
		(s) =>
			postVoiceMessage(s.doc, {
				content: '',
				created_by: bob,
				audio_url: 'ftp://example.com/a.ogg'
			})
	],
	[
		'a voice message with an empty url',
		'bad_audio_url',
		(s) => postVoiceMessage(s.doc, { content: '', created_by: bob, audio_url: '' })
	],
	[
		'a message with a bad audio url',
		'bad_audio_url',
		(s) => post(s, { audio_url: 'javascript:void(0)' })
	],
	[
		'adding someone to a group by a non-member',
		'not_a_member',
		(s) => addMember(s.doc, { user_id: dave, added_by: 'eve' })
	],
	[
		'adding a malformed user id',
		'bad_user_id',
		(s) => addMember(s.doc, { user_id: 'd@ve', added_by: alice })
	],
	[
		'adding someone with a bad timestamp',
		'bad_timestamp',
		(s) => addMember(s.doc, { user_id: dave, added_by: alice, created_at: '1 Jan' })
	],
	[
		'removing someone else when not the creator',
		'not_a_member',
		(s) => removeMember(s.doc, { user_id: carol, removed_by: bob })
	],
	[
		'removing someone by a non-member',
		'not_a_member',
		(s) => removeMember(s.doc, { user_id: bob, removed_by: dave })
	],
	[
		'removing a malformed user id',
		'bad_user_id',
		(s) => removeMember(s.doc, { user_id: '', removed_by: alice })
	]
];

describe('validation of conversation operations', () => {
	it.each(cases)('refuses %s with %s', (_title, code, op) => {
		const s = scene();
		expectRefused(s.doc, () => op(s), code);
	});

	it('accepts content of exactly the limit', () => {
		const s = scene();
		const m = post(s, { content: 'a'.repeat(Limits.contentMaxChars) });
		expect(m.content).toHaveLength(Limits.contentMaxChars);
	});

	it('accepts exactly the most attachments and every allowed kind of url', () => {
		const s = scene();
		const urls = [
			'/blobs/a',
			'https://files.example/a.png',
			'http://localhost:5173/a',
			'blob:https://app.example/8c1f'
		];
		const list = Array.from({ length: Limits.attachmentsPerMessage }, (_, i) =>
			attachment({ url: urls[i % urls.length]! })
		);
		expect(post(s, { file_attachments: list }).file_attachments).toHaveLength(list.length);
	});

	it('accepts timestamps with an offset and with microseconds', () => {
		const s = scene();
		expect(post(s, { created_at: '2026-03-01T10:00:00+05:30' }).created_at).toBe(
			'2026-03-01T10:00:00+05:30'
		);
		expect(post(s, { created_at: '2024-02-29T10:00:00.123456Z' }).created_at).toBe(
			'2024-02-29T10:00:00.123456Z'
		);
	});

	it('refuses any content longer than the limit', () => {
		const s = scene();
		fc.assert(
			fc.property(
				fc.integer({ min: Limits.contentMaxChars + 1, max: Limits.contentMaxChars * 3 }),
				// Whitespace-only content is refused as empty first, whatever its length.
				fc.string({ minLength: 1, maxLength: 4 }).filter((u) => u.trim().length > 0),
				(length, unit) => {
					const content = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
					expectRefused(s.doc, () => post(s, { content }), 'content_too_long');
				}
			),
			{ numRuns: 50 }
		);
	});
});

describe('validation of direct messages and conversations', () => {
	const create = (input: Record<string, unknown>) => () =>
		createConversation(new Y.Doc(), {
			kind: 'group',
			name: 'team',
			created_by: alice,
			members: [bob],
			...input
		} as Parameters<typeof createConversation>[1]);

	it.each<[string, ValidationCode, () => unknown]>([
		[
			'a direct message between three people',
			'dm_members',
			create({ kind: 'dm', members: [bob, carol] })
		],
		['a direct message with oneself', 'dm_members', create({ kind: 'dm', members: [alice] })],
		['a direct message with nobody', 'dm_members', create({ kind: 'dm', members: [] })],
		['an unknown kind', 'bad_kind', create({ kind: 'forum' })],
		['a group without a name', 'bad_name', create({ name: undefined })],
		['a group with a blank name', 'bad_name', create({ name: '   ' })],
		['a name over the limit', 'bad_name', create({ name: 'n'.repeat(Limits.nameMaxChars + 1) })],
		['a malformed creator', 'bad_user_id', create({ created_by: 'alice@example.com' })],
		['a malformed member', 'bad_user_id', create({ members: ['bob!'] })],
		['a malformed conversation id', 'bad_id', create({ id: '12ab' })],
		['a bad timestamp', 'bad_timestamp', create({ created_at: '2026-01-01T10:00:00.000' })],
		[
			'too many members',
			'too_many_members',
			create({ members: Array.from({ length: Limits.membersPerConversation }, (_, i) => `u${i}`) })
		]
	])('refuses %s with %s', (_title, code, op) => {
		let error: unknown;
		try {
			op();
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(ValidationError);
		expect((error as ValidationError).code).toBe(code);
	});

	it('refuses operations on a document with no conversation', () => {
		const doc = new Y.Doc();
		expectRefused(
			doc,
			() => postMessage(doc, { content: 'x', created_by: alice }),
			'unknown_conversation'
		);
		expectRefused(
			doc,
			() => addMember(doc, { user_id: bob, added_by: alice }),
			'unknown_conversation'
		);
	});

	it('refuses to add a third person to a direct message or to remove one of its two', () => {
		const { doc } = conversation({ kind: 'dm', created_by: alice, members: [bob] });
		expectRefused(doc, () => addMember(doc, { user_id: carol, added_by: bob }), 'dm_members');
		expectRefused(doc, () => removeMember(doc, { user_id: bob, removed_by: bob }), 'dm_members');
		expectRefused(doc, () => removeMember(doc, { user_id: bob, removed_by: alice }), 'dm_members');
	});

	it('refuses joining a group uninvited', () => {
		const { doc } = conversation({ kind: 'group' });
		expectRefused(doc, () => addMember(doc, { user_id: dave, added_by: dave }), 'not_a_member');
	});
});

describe('validation of workspace operations', () => {
	const profile = { user_id: alice, display_name: 'Alice', color: '#3b82f6' };
	const meta = {
		id: '42',
		name: 'general',
		kind: 'channel' as const,
		created_at: at(0),
		created_by: alice
	};

	it.each<[string, ValidationCode, (doc: Y.Doc) => unknown]>([
		['a malformed user id', 'bad_user_id', (d) => setProfile(d, { ...profile, user_id: 'a b' })],
		[
			'an empty display name',
			'bad_display_name',
			(d) => setProfile(d, { ...profile, display_name: ' ' })
		],
		[
			'a display name over the limit',
			'bad_display_name',
			(d) => setProfile(d, { ...profile, display_name: 'x'.repeat(Limits.displayNameMaxChars + 1) })
		],
		[
			'a display name with a control character',
			'bad_display_name',
			(d) => setProfile(d, { ...profile, display_name: 'Al\u0007ice' })
		],
		[
			'a display name with a newline',
			'bad_display_name',
			(d) => setProfile(d, { ...profile, display_name: 'Al\nice' })
		],
		['a colour name', 'bad_color', (d) => setProfile(d, { ...profile, color: 'blue' })],
		['a short hex colour', 'bad_color', (d) => setProfile(d, { ...profile, color: '#abc' })],
		[
			'a public key that is not base64url',
			'bad_user_id',
			(d) => setProfile(d, { ...profile, public_key: 'a+b/c=' })
		],
		[
			'a profile with a bad timestamp',
			'bad_timestamp',
			(d) => setProfile(d, { ...profile, updated_at: 'today' })
		],
		['listing a group', 'bad_kind', (d) => listChannel(d, { ...meta, kind: 'group' })],
		[
			'listing a direct message',
			'bad_kind',
			(d) => listChannel(d, { ...meta, kind: 'dm', name: null })
		],
		['listing a channel with a bad id', 'bad_id', (d) => listChannel(d, { ...meta, id: '-1' })],
		[
			'listing a channel without a name',
			'bad_name',
			(d) => listChannel(d, { ...meta, name: null })
		],
		[
			'listing a channel with a bad creator',
			'bad_user_id',
			(d) => listChannel(d, { ...meta, created_by: '' })
		],
		[
			'listing a channel with a bad timestamp',
			'bad_timestamp',
			(d) => listChannel(d, { ...meta, created_at: '' })
		]
	])('refuses %s with %s', (_title, code, op) => {
		const doc = new Y.Doc();
		expectRefused(doc, () => op(doc), code);
	});
});

describe('emoji', () => {
	it('accepts any RGI emoji', () => {
		fc.assert(
			fc.property(rgiEmoji(), (emoji) => {
				expect(() => checkEmoji(emoji)).not.toThrow();
			}),
			{ numRuns: 500 }
		);
	});

	it('accepts a reaction with any RGI emoji', () => {
		const s = scene();
		fc.assert(
			fc.property(rgiEmoji(), (emoji) => {
				toggleReaction(s.doc, s.message.id, { emoji, user_id: bob });
				expect(toggleReaction(s.doc, s.message.id, { emoji, user_id: bob })).toBe(false);
			}),
			{ numRuns: 100 }
		);
	});

	it('refuses any text with a letter, a space or a separator in it', () => {
		const notEmoji = fc
			.tuple(
				fc.string({ unit: 'grapheme' }),
				fc.constantFrom('a', 'Z', ' ', '|', '\n', 'é'),
				fc.string()
			)
			.map(([a, b, c]) => a + b + c);
		fc.assert(
			fc.property(notEmoji, (text) => {
				expect(() => checkEmoji(text)).toThrow(ValidationError);
			}),
			{ numRuns: 500 }
		);
	});

	it('refuses two emojis in a row and an emoji longer than the limit', () => {
		fc.assert(
			fc.property(rgiEmoji(), rgiEmoji(), (a, b) => {
				expect(() => checkEmoji(a + b)).toThrow(ValidationError);
			}),
			{ numRuns: 200 }
		);
		expect(() => checkEmoji('👍'.repeat(Limits.emojiMaxChars))).toThrow(ValidationError);
	});

	it('refuses arbitrary strings of code points that are not an emoji', () => {
		fc.assert(
			fc.property(
				fc
					.string({ unit: 'binary', minLength: 0, maxLength: 10 })
					.filter((s) => !/\p{Extended_Pictographic}|\p{Emoji_Component}/u.test(s)),
				(text) => {
					expect(() => checkEmoji(text)).toThrow(ValidationError);
				}
			),
			{ numRuns: 200 }
		);
	});
});
