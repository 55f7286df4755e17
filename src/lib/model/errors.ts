/** What was wrong with the input that an operation refused. */
export type ValidationCode =
	| 'content_empty'
	| 'content_too_long'
	| 'bad_id'
	| 'bad_user_id'
	| 'bad_name'
	| 'bad_kind'
	| 'bad_color'
	| 'bad_display_name'
	| 'bad_emoji'
	| 'bad_attachment'
	| 'too_many_attachments'
	| 'bad_audio_url'
	| 'bad_timestamp'
	| 'unknown_conversation'
	| 'unknown_message'
	| 'unknown_parent'
	| 'reply_to_reply'
	| 'not_a_member'
	| 'not_the_author'
	| 'message_deleted'
	| 'already_exists'
	| 'dm_members'
	| 'too_many_members'
	| 'too_many_reactions';

/**
 * An operation refused its input. `code` is stable (tests and the UI switch on it); `message`
 * says in plain words what is wrong.
 *
 * @example
 * try { postMessage(doc, { content: '', created_by: me }) }
 * catch (e) { if (e instanceof ValidationError && e.code === 'content_empty') … }
 */
export class ValidationError extends Error {
	override readonly name = 'ValidationError';
	constructor(
		readonly code: ValidationCode,
		message: string
	) {
		super(message);
	}
}

/** Throws a {@link ValidationError} unless `ok`. */
export function check(ok: boolean, code: ValidationCode, message: string): asserts ok {
	if (!ok) throw new ValidationError(code, message);
}
