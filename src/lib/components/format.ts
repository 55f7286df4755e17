/**
 * Formatting and grouping for the message list: pure functions of their inputs (time is
 * passed in), so they are tested without a browser.
 */
import { compareIds, type Message } from '$lib/model';

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

/** "Today", "Yesterday", or a date such as "Monday, 23 November 2026". */
export function dayLabel(time: Date, now: Date, locale?: string): string {
	const key = dayKey(time);
	if (key === dayKey(now)) return 'Today';
	const yesterday = new Date(now);
	yesterday.setDate(now.getDate() - 1);
	if (key === dayKey(yesterday)) return 'Yesterday';
	return new Intl.DateTimeFormat(locale, {
		weekday: 'long',
		day: 'numeric',
		month: 'long',
		year: 'numeric'
	}).format(time);
}

/** "just now", "5 minutes ago", "3 hours ago", "yesterday", "2 days ago", then the date. */
export function relativeTime(time: Date, now: Date, locale?: string): string {
	const diff = time.getTime() - now.getTime();
	const abs = Math.abs(diff);
	if (abs < 45_000) return 'just now';
	const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
	if (abs < HOUR) return rtf.format(Math.round(diff / MINUTE), 'minute');
	if (abs < DAY) return rtf.format(Math.round(diff / HOUR), 'hour');
	if (abs < 7 * DAY) return rtf.format(Math.round(diff / DAY), 'day');
	return new Intl.DateTimeFormat(locale, {
		day: 'numeric',
		month: 'short',
		year: 'numeric'
	}).format(time);
}

/** The full date and time, for a tooltip. */
export function absoluteTime(time: Date, locale?: string): string {
	return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(time);
}

/** The time of day, shown beside a message. */
export function clockTime(time: Date, locale?: string): string {
	return new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' }).format(time);
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
	const rows: Row[] = [];
	let day = '';
	let previous: Message | null = null;
	const readUpTo = options.readUpTo;
	let unreadPlaced = readUpTo === undefined;
	for (const message of messages) {
		const time = new Date(message.created_at);
		const key = dayKey(time);
		let breakRun = false;
		if (key !== day) {
			day = key;
			rows.push({
				kind: 'day',
				key: `day-${key}`,
				label: dayLabel(time, options.now, options.locale)
			});
			breakRun = true;
		}
		if (
			!unreadPlaced &&
			message.created_by !== options.me &&
			(readUpTo === null || (readUpTo !== undefined && compareIds(message.id, readUpTo) > 0))
		) {
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
			time.getTime() - new Date(previous.created_at).getTime() < RUN_GAP_MS;
		rows.push({ kind: 'message', key: message.id, message, continued });
		previous = message;
	}
	return rows;
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
