import type { Message } from '$lib/model';

/** What a message row can ask of the conversation it sits in. */
export interface MessageActions {
	me: string;
	/** Whether one's own message still waits for the relay to store it ("Sending…"). */
	isPending(message: Message): boolean;
	/** How many of the members' other devices hold one's own message (0: none known). */
	heldBy(message: Message): number;
	nameOf(userId: string): string;
	colorOf(userId: string): string;
	react(message: Message, emoji: string): void;
	pickReaction(message: Message, anchor: HTMLElement): void;
	/** Absent inside a thread (threads are one level deep). */
	openThread?: (message: Message, trigger: HTMLElement) => void;
	startEdit(message: Message): void;
	/** The text to edit: mention tokens shown as `@Name` (absent: the content as stored). */
	editableText?: (message: Message) => string;
	/** Returns whether the edit was saved. */
	saveEdit(message: Message, content: string): boolean;
	cancelEdit(): void;
	remove(message: Message, trigger: HTMLElement): void;
}
