import { describe, expect, it } from 'vitest';
import type { ConversationItem } from '../../../src/lib/state/conversation-list.svelte';
import {
	MessageNotifier,
	notificationBody,
	type NotificationSink,
	type Permission
} from '../../../src/lib/state/notifications.svelte';

function sink(initial: Permission = 'default', answer: Permission = 'granted') {
	let permission = initial;
	const shown: Array<{ title: string; body: string; tag: string; url: string }> = [];
	const s: NotificationSink = {
		permission: () => permission,
		request: async () => (permission = answer),
		show: (title, o) => shown.push({ title, body: o.body, tag: o.tag, url: o.data.url })
	};
	return { s, shown };
}

function item(
	id: string,
	newest: string | null,
	extra: Partial<ConversationItem> = {}
): ConversationItem {
	return {
		id,
		kind: 'channel',
		label: `room${id}`,
		otherUserId: null,
		unread: 0,
		mentions: 0,
		lastMessageId: newest,
		newestFromOthers:
			newest === null
				? null
				: {
						id: newest,
						created_by: 'bo',
						content: `message ${newest}`,
						hasAttachments: false,
						isVoice: false
					},
		...extra
	};
}

function notifier(s: NotificationSink, state = { current: null as string | null, visible: true }) {
	const storage = new Map<string, string>();
	return new MessageNotifier(s, {
		name: (id) => (id === 'bo' ? 'Bo' : id),
		current: () => state.current,
		visible: () => state.visible,
		url: (id) => `/c/${id}`,
		storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) }
	});
}

describe('MessageNotifier', () => {
	it('asks nothing until enabled, and notifies only once the person turned it on', async () => {
		const { s, shown } = sink();
		const n = notifier(s);
		n.update([item('1', '10')]);
		n.update([item('1', '11')]);
		expect(shown).toEqual([]);
		expect(await n.enable()).toBe('granted');
		n.update([item('1', '12')]);
		expect(shown).toEqual([
			{ title: 'Bo in #room1', body: 'message 12', tag: 'kith:1', url: '/c/1' }
		]);
	});

	it('never notifies for what was there at start, nor twice for one message', async () => {
		const { s, shown } = sink('granted');
		const n = notifier(s);
		await n.enable();
		n.update([item('1', '50'), item('2', null)]);
		n.update([item('1', '50'), item('2', null)]);
		expect(shown).toEqual([]);
		n.update([item('1', '50'), item('2', '60')]);
		n.update([item('1', '50'), item('2', '60')]);
		expect(shown.map((x) => x.tag)).toEqual(['kith:2']);
	});

	it('stays quiet for the conversation on screen, unless the window is hidden', async () => {
		const state = { current: '1' as string | null, visible: true };
		const { s, shown } = sink('granted');
		const n = notifier(s, state);
		await n.enable();
		n.update([item('1', '1')]);
		n.update([item('1', '2')]);
		expect(shown).toEqual([]);
		state.visible = false;
		n.update([item('1', '3')]);
		expect(shown).toHaveLength(1);
	});

	it('names the person alone in a direct message, and stops when turned off or denied', async () => {
		const { s, shown } = sink('granted');
		const n = notifier(s);
		await n.enable();
		n.update([item('d', '1', { kind: 'dm', label: 'Bo' })]);
		n.update([item('d', '2', { kind: 'dm', label: 'Bo' })]);
		expect(shown[0]!.title).toBe('Bo');
		n.disable();
		n.update([item('d', '3', { kind: 'dm', label: 'Bo' })]);
		expect(shown).toHaveLength(1);

		const denied = sink('default', 'denied');
		const m = notifier(denied.s);
		expect(await m.enable()).toBe('denied');
		expect(m.enabled).toBe(false);
	});

	it.each([
		[{ content: '  hello\n  world ', hasAttachments: false, isVoice: false }, 'hello world'],
		[{ content: '', hasAttachments: false, isVoice: true }, 'Sent a voice message'],
		[{ content: '', hasAttachments: true, isVoice: false }, 'Sent a file'],
		[{ content: 'x'.repeat(200), hasAttachments: false, isVoice: false }, `${'x'.repeat(139)}…`]
	])('says %j as %j', (m, body) => {
		expect(notificationBody({ id: '1', created_by: 'bo', ...m })).toBe(body);
	});

	it('shows mentions by name, not as stored tokens', () => {
		const m = {
			id: '1',
			created_by: 'bo',
			content: 'hi <@ada>',
			hasAttachments: false,
			isVoice: false
		};
		expect(notificationBody(m, (u) => (u === 'ada' ? 'Ada' : null))).toBe('hi @Ada');
	});
});
