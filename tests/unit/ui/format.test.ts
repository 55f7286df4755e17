import { describe, expect, it } from 'vitest';
import { AppendList, type Message } from '../../../src/lib/model';
import {
	RUN_GAP_MS,
	RowBuilder,
	buildRows,
	type RowOptions,
	dayLabel,
	initials,
	listNames,
	relativeTime,
	replyCountText
} from '../../../src/lib/components/format';

const NOW = new Date(2026, 10, 25, 15, 0, 0);

function msg(id: string, by: string, at: Date, extra: Partial<Message> = {}): Message {
	return {
		id,
		created_at: at.toISOString(),
		content: `m${id}`,
		created_by: by,
		conversation_id: '1',
		file_attachments: [],
		parent_message_id: null,
		audio_url: null,
		reactions: {},
		edited_at: null,
		deleted_at: null,
		reply_count: 0,
		...extra
	};
}

const minutes = (n: number) => new Date(NOW.getTime() - n * 60_000);

describe('relativeTime', () => {
	it.each([
		[new Date(NOW.getTime() - 10_000), 'just now'],
		[minutes(5), '5 minutes ago'],
		[minutes(60 * 3), '3 hours ago'],
		[minutes(60 * 24), 'yesterday'],
		[minutes(60 * 24 * 3), '3 days ago'],
		[new Date(2026, 0, 2), 'Jan 2, 2026']
	])('describes %s as "%s"', (time, text) => {
		expect(relativeTime(time, NOW, 'en-US')).toBe(text);
	});
});

describe('dayLabel', () => {
	it('names today and yesterday, and dates older days in full', () => {
		expect(dayLabel(minutes(10), NOW, 'en-US')).toBe('Today');
		expect(dayLabel(new Date(2026, 10, 24, 23, 0), NOW, 'en-US')).toBe('Yesterday');
		expect(dayLabel(new Date(2026, 10, 20, 9, 0), NOW, 'en-US')).toBe('Friday, November 20, 2026');
	});
});

describe('buildRows', () => {
	it('puts a day separator before each new day and groups runs by author', () => {
		const rows = buildRows(
			[
				msg('1', 'ada', new Date(2026, 10, 24, 10, 0)),
				msg('2', 'ada', minutes(30)),
				msg('3', 'ada', minutes(29)),
				msg('4', 'bo', minutes(28)),
				msg('5', 'ada', minutes(27))
			],
			{ now: NOW, me: 'ada', readUpTo: undefined, locale: 'en-US' }
		);
		expect(
			rows.map((r) => (r.kind === 'message' ? `${r.key}${r.continued ? '+' : ''}` : r.kind))
		).toEqual(['day', '1', 'day', '2', '3+', '4', '5']);
	});

	it('starts a new run after a pause longer than the run gap', () => {
		const rows = buildRows(
			[msg('1', 'ada', minutes(30)), msg('2', 'ada', new Date(minutes(30).getTime() + RUN_GAP_MS))],
			{ now: NOW, me: 'ada', readUpTo: undefined }
		);
		expect(
			rows.filter((r) => r.kind === 'message').map((r) => r.kind === 'message' && r.continued)
		).toEqual([false, false]);
	});

	it('places the unread divider before the first newer message by someone else', () => {
		const list = [
			msg('1', 'bo', minutes(10)),
			msg('2', 'ada', minutes(9)),
			msg('3', 'bo', minutes(8)),
			msg('4', 'bo', minutes(7))
		];
		const keys = (readUpTo: string | null | undefined) =>
			buildRows(list, { now: NOW, me: 'ada', readUpTo }).map((r) => r.key);
		expect(keys('1')).toEqual([expect.stringMatching(/^day-/), '1', '2', 'unread', '3', '4']);
		expect(keys(null)).toEqual([expect.stringMatching(/^day-/), 'unread', '1', '2', '3', '4']);
		expect(keys('4')).not.toContain('unread');
		expect(keys(undefined)).not.toContain('unread');
	});

	it('never continues a run into or out of a deleted message', () => {
		const rows = buildRows(
			[
				msg('1', 'ada', minutes(3)),
				msg('2', 'ada', minutes(2), { deleted_at: NOW.toISOString() }),
				msg('3', 'ada', minutes(1))
			],
			{ now: NOW, me: 'ada', readUpTo: undefined }
		);
		expect(
			rows.filter((r) => r.kind === 'message').map((r) => r.kind === 'message' && r.continued)
		).toEqual([false, false, false]);
	});
});

describe('RowBuilder', () => {
	/** A small seeded generator (mulberry32), so a failure replays. */
	function random(seed: number) {
		return () => {
			seed = (seed + 0x6d2b79f5) | 0;
			let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
			t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
			return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
		};
	}

	it.each([1, 2, 3, 4, 5, 6, 7, 8])(
		'gives the rows of a full build after random appends, edits and deletes (seed %i)',
		(seed) => {
			const next = random(seed);
			const authors = ['ada', 'bo', 'cy'];
			let clock = new Date(2026, 10, 20, 8, 0).getTime();
			let id = 0;
			const fresh = () => {
				// Mostly a few minutes apart, sometimes past the run gap, sometimes a day or more.
				const r = next();
				clock += r < 0.7 ? next() * 4 * 60_000 : r < 0.95 ? RUN_GAP_MS + 1 : 20 * 3600_000;
				id += 1 + Math.floor(next() * 3);
				return msg(String(id), authors[Math.floor(next() * authors.length)]!, new Date(clock));
			};
			let messages = AppendList.of(Array.from({ length: 20 }, fresh));
			const readUpTo = [undefined, null, messages.get(10)!.id][seed % 3];
			const options: RowOptions = { now: NOW, me: 'ada', readUpTo, locale: 'en-US' };
			const builder = new RowBuilder();
			for (let step = 0; step < 60; step++) {
				const r = next();
				const at = Math.floor(next() * messages.length);
				// Appends share the list's items, as the live view's do; other changes copy.
				const copy = messages.toArray();
				if (r < 0.5 || messages.length === 0) messages = messages.append([fresh()]);
				else if (r < 0.7)
					copy[at] = { ...copy[at]!, content: 'edited', edited_at: NOW.toISOString() };
				else if (r < 0.85) copy[at] = { ...copy[at]!, content: '', deleted_at: NOW.toISOString() };
				else if (r < 0.93) copy.splice(at, 1);
				else copy[at] = { ...copy[at]!, created_by: 'ada' };
				if (r >= 0.5 && copy.length > 0) messages = AppendList.of(copy);
				const rows = builder.build(messages, options);
				expect(rows.toArray()).toEqual(buildRows(messages.toArray(), options));
				expect(builder.hasUnread).toBe(rows.some((row) => row.kind === 'unread'));
			}
		}
	);

	it('keeps the row objects of messages before the first change', () => {
		const messages = [
			msg('1', 'ada', minutes(30)),
			msg('2', 'bo', minutes(20)),
			msg('3', 'bo', minutes(19))
		];
		const options: RowOptions = { now: NOW, me: 'ada', readUpTo: '1' };
		const builder = new RowBuilder();
		const list = AppendList.of(messages);
		const before = builder.build(list, options);
		const beforeRows = before.toArray();
		const after = builder.build(list.append([msg('4', 'ada', minutes(1))]), options);
		expect(after.toArray().slice(0, before.length)).toEqual(before.toArray());
		// Appended to: the rows before are unchanged and shared.
		expect(before.toArray()).toEqual(beforeRows);
		beforeRows.forEach((row, i) => expect(after.get(i)).toBe(row));
		expect(after.sharedPrefix(before)).toBe(before.length);
		expect(after.map((r) => r.key)).toEqual([...before.map((r) => r.key), '4']);
		expect(
			builder
				.build(
					AppendList.of(after.toArray().flatMap((r) => (r.kind === 'message' ? [r.message] : []))),
					options
				)
				.toArray()
		).toEqual(after.toArray());
	});

	it('rebuilds everything when the day, the reader or the read marker changes', () => {
		const messages = AppendList.of([
			msg('1', 'bo', minutes(60 * 24 + 5)),
			msg('2', 'bo', minutes(5))
		]);
		const builder = new RowBuilder();
		const labels = (now: Date, readUpTo: string | null | undefined) =>
			builder
				.build(messages, { now, me: 'ada', readUpTo, locale: 'en-US' })
				.map((r) => (r.kind === 'day' ? r.label : r.key));
		expect(labels(NOW, undefined)).toEqual(['Yesterday', '1', 'Today', '2']);
		const tomorrow = new Date(NOW.getTime() + 24 * 3600_000);
		expect(labels(tomorrow, undefined)).toEqual([
			'Tuesday, November 24, 2026',
			'1',
			'Yesterday',
			'2'
		]);
		expect(labels(tomorrow, null)).toEqual([
			'Tuesday, November 24, 2026',
			'unread',
			'1',
			'Yesterday',
			'2'
		]);
		expect(labels(tomorrow, '1')).toEqual([
			'Tuesday, November 24, 2026',
			'1',
			'Yesterday',
			'unread',
			'2'
		]);
	});
});

describe('small words', () => {
	it.each([
		['Ada Lovelace', 'AL'],
		['ada', 'A'],
		['  Grace  Brewster Hopper ', 'GH'],
		['élodie', 'É'],
		['', '?']
	])('initials of "%s" are %s', (name, expected) => {
		expect(initials(name)).toBe(expected);
	});

	it('counts replies and lists names as a person would say them', () => {
		expect(replyCountText(1)).toBe('1 reply');
		expect(replyCountText(3)).toBe('3 replies');
		expect(listNames(['Ada'])).toBe('Ada');
		expect(listNames(['Ada', 'Bo'])).toBe('Ada and Bo');
		expect(listNames(['Ada', 'Bo', 'Cy'])).toBe('Ada, Bo and Cy');
	});
});
