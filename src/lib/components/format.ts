/**
 * Formatting and grouping for the message list: pure functions of their inputs (time is
 * passed in), so they are tested without a browser.
 */
import { AppendList, compareIds, type Message } from '$lib/model';

/** Messages by one author within this gap are one run (one name, one avatar). */
export const RUN_GAP_MS = 5 * 60_000;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The local calendar day of a time, as YYYY-MM-DD. */
export function dayKey(time: Date): string {
	const y = time.getFullYear();
	const m = String(time.getMonth() + 1).padStart(2, '0');
	const d = String(time.getDate()).padStart(2, '0');
	return `${y}-${m}-${d}`;
}

// Making an Intl formatter costs far more than formatting with one (a new one per message was
// ~0.6 s of 10 s of scrolling through 10,000 messages): one per locale and style, kept.
const formatters = new Map<string, Intl.DateTimeFormat>();
function dateFormat(
	style: string,
	locale: string | undefined,
	options: Intl.DateTimeFormatOptions
): Intl.DateTimeFormat {
	const key = `${style}|${locale ?? ''}`;
	let format = formatters.get(key);
	if (!format) formatters.set(key, (format = new Intl.DateTimeFormat(locale, options)));
	return format;
}
const relativeFormatters = new Map<string, Intl.RelativeTimeFormat>();
function relativeFormat(locale: string | undefined): Intl.RelativeTimeFormat {
	const key = locale ?? '';
	let format = relativeFormatters.get(key);
	if (!format)
		relativeFormatters.set(
			key,
			(format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }))
		);
	return format;
}

const fullDate = (time: Date, locale?: string) =>
	dateFormat('day', locale, {
		weekday: 'long',
		day: 'numeric',
		month: 'long',
		year: 'numeric'
	}).format(time);

/** The day before `now`'s, as {@link dayKey}. */
function yesterdayKey(now: Date): string {
	const yesterday = new Date(now);
	yesterday.setDate(now.getDate() - 1);
	return dayKey(yesterday);
}

/** "Today", "Yesterday", or a date such as "Monday, 23 November 2026". */
export function dayLabel(time: Date, now: Date, locale?: string): string {
	const key = dayKey(time);
	if (key === dayKey(now)) return 'Today';
	if (key === yesterdayKey(now)) return 'Yesterday';
	return fullDate(time, locale);
}

/** "just now", "5 minutes ago", "3 hours ago", "yesterday", "2 days ago", then the date. */
export function relativeTime(time: Date, now: Date, locale?: string): string {
	const diff = time.getTime() - now.getTime();
	const abs = Math.abs(diff);
	if (abs < 45_000) return 'just now';
	const rtf = relativeFormat(locale);
	if (abs < HOUR) return rtf.format(Math.round(diff / MINUTE), 'minute');
	if (abs < DAY) return rtf.format(Math.round(diff / HOUR), 'hour');
	if (abs < 7 * DAY) return rtf.format(Math.round(diff / DAY), 'day');
	return dateFormat('short', locale, { day: 'numeric', month: 'short', year: 'numeric' }).format(
		time
	);
}

/** The full date and time, for a tooltip. */
export function absoluteTime(time: Date, locale?: string): string {
	return dateFormat('full', locale, { dateStyle: 'full', timeStyle: 'short' }).format(time);
}

/** The time of day, shown beside a message. */
export function clockTime(time: Date, locale?: string): string {
	return dateFormat('clock', locale, { hour: 'numeric', minute: '2-digit' }).format(time);
}

/** One row of the message list. */
export type Row =
	| { kind: 'day'; key: string; label: string }
	| { kind: 'unread'; key: string }
	| { kind: 'message'; key: string; message: Message; continued: boolean };

export interface RowOptions {
	now: Date;
	me: string;
	/** The last message read before this visit; a divider goes before the first newer one by someone else. */
	readUpTo: string | null | undefined;
	locale?: string;
}

/**
 * The rows of a message list: a day separator before each new day, an "unread" divider before
 * the first unread message, and each message marked `continued` when it follows one by the same
 * author within {@link RUN_GAP_MS} (same day, no divider between).
 */
export function buildRows(messages: readonly Message[], options: RowOptions): Row[] {
	return new RowBuilder().build(AppendList.of([...messages]), options).toArray();
}

/**
 * {@link buildRows}, incrementally: the rows of messages up to the first one that changed (by
 * identity: the model keeps unchanged messages the same objects, `live-messages.svelte.ts`) are
 * kept, the same row objects, and only the rest is built. A message's rows depend only on it,
 * the one before it and what came earlier, so a post or an edit near the end of 100,000
 * messages costs a few rows, not 100,000 `Date`s (~120 ms per post before). Messages appended to
 * the list the rows were built from (a post) are found without a walk, and their rows are
 * appended to the rows built before ({@link AppendList}): a post copies neither list.
 *
 * @example
 * const builder = new RowBuilder();
 * const rows = $derived(builder.build(conversation.messages, { now: new Date(), me, readUpTo }));
 */
export class RowBuilder {
	#messages: AppendList<Message> = AppendList.empty();
	#rows: AppendList<Row> = AppendList.empty();
	/** Per message (same index as #messages): the index of its row, its time, its day. */
	#rowOf: number[] = [];
	#times: number[] = [];
	#days: string[] = [];
	/** The unread divider's row index, or -1. */
	#unreadRow = -1;
	/** What the rows depend on besides the messages; a change rebuilds all. */
	#context = '';

	build(messages: AppendList<Message>, options: RowOptions): AppendList<Row> {
		const today = dayKey(options.now);
		const readUpTo = options.readUpTo;
		// undefined (no divider) and null (all unread) differ: undefined is written as 0.
		const context = JSON.stringify([
			today,
			options.me,
			readUpTo === undefined ? 0 : readUpTo,
			options.locale ?? 0
		]);
		let from = 0;
		if (context === this.#context) {
			const previous = this.#messages;
			from = messages.sharedPrefix(previous);
			if (from === messages.length && from === previous.length) return this.#rows;
		}
		this.#context = context;
		this.#messages = messages;

		// The new rows are appended to the kept ones at the end: in place when every row built
		// before is kept (a post), with one copy of the kept rows otherwise.
		const kept = from > 0 ? this.#rowOf[from - 1]! + 1 : 0;
		const rows: Row[] = [];
		const rowOf = this.#rowOf;
		const times = this.#times;
		const days = this.#days;
		rowOf.length = times.length = days.length = from;
		if (this.#unreadRow >= kept) this.#unreadRow = -1;
		let unreadPlaced = readUpTo === undefined || this.#unreadRow >= 0;
		const yesterday = yesterdayKey(options.now);

		let day = from > 0 ? days[from - 1]! : '';
		// The local day [start, end) that `day` covers: a message inside it needs no Date.
		let dayStart = Infinity;
		let dayEnd = -Infinity;
		let previous: Message | null = from > 0 ? messages.get(from - 1)! : null;
		let previousTime = from > 0 ? times[from - 1]! : 0;
		for (let i = from; i < messages.length; i++) {
			const message = messages.get(i)!;
			const time = Date.parse(message.created_at);
			let key = day;
			// Negated so an invalid time (NaN) takes this path too.
			if (!(time >= dayStart && time < dayEnd)) {
				const date = new Date(time);
				key = dayKey(date);
				const y = date.getFullYear();
				const m = date.getMonth();
				const d = date.getDate();
				dayStart = new Date(y, m, d).getTime();
				dayEnd = new Date(y, m, d + 1).getTime();
			}
			let breakRun = false;
			if (key !== day) {
				day = key;
				rows.push({
					kind: 'day',
					key: `day-${key}`,
					label:
						key === today
							? 'Today'
							: key === yesterday
								? 'Yesterday'
								: fullDate(new Date(time), options.locale)
				});
				breakRun = true;
			}
			if (
				!unreadPlaced &&
				message.created_by !== options.me &&
				(readUpTo === null || (readUpTo !== undefined && compareIds(message.id, readUpTo) > 0))
			) {
				this.#unreadRow = kept + rows.length;
				rows.push({ kind: 'unread', key: 'unread' });
				unreadPlaced = true;
				breakRun = true;
			}
			const continued =
				!breakRun &&
				previous !== null &&
				previous.created_by === message.created_by &&
				previous.deleted_at === null &&
				message.deleted_at === null &&
				time - previousTime < RUN_GAP_MS;
			rowOf.push(kept + rows.length);
			times.push(time);
			days.push(key);
			rows.push({ kind: 'message', key: message.id, message, continued });
			previous = message;
			previousTime = time;
		}
		this.#rows = kept === 0 ? AppendList.of(rows) : this.#rows.truncate(kept).append(rows);
		return this.#rows;
	}

	/** Whether the rows last built hold the "unread" divider. */
	get hasUnread(): boolean {
		return this.#unreadRow >= 0;
	}
}

/** Up to two initials of a display name, for an avatar. */
export function initials(name: string): string {
	const parts = name.trim().split(/\s+/u).filter(Boolean);
	const first = [...(parts[0] ?? '?')][0] ?? '?';
	const second = parts.length > 1 ? ([...parts[parts.length - 1]!][0] ?? '') : '';
	return (first + second).toUpperCase();
}

/** "1 reply", "3 replies". */
export function replyCountText(n: number): string {
	return n === 1 ? '1 reply' : `${n} replies`;
}

/** "Ada", "Ada and Bo", "Ada, Bo and Cy" — who reacted, for a tooltip. */
export function listNames(names: readonly string[]): string {
	if (names.length <= 1) return names[0] ?? '';
	return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
