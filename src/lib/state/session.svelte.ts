import { getContext, setContext } from 'svelte';
import type * as Y from 'yjs';
import {
	WORKSPACE_DOC,
	inboxDocName,
	readInbox,
	addMember,
	conversationDocName,
	createConversation,
	directMessageId,
	GENERAL_CHANNEL_ID,
	listChannel,
	readMeta,
	checkConversationName,
	newId
} from '$lib/model';
import type { KithDb } from '$lib/db';
import type { ConnectionSource, DocOpener } from './doc-opener';
import { MessageNotifier, type NotificationSink } from './notifications.svelte';
import { Drafts } from './composer.svelte';
import type { DeviceManager } from './devices.svelte';
import {
	ConversationList,
	FreedConversations,
	KnownConversations
} from './conversation-list.svelte';
import { DocSnapshot } from './doc-snapshot.svelte';
import { Presence } from './presence.svelte';
import { ReadMarkers } from './read-markers.svelte';
import { MessageSearch } from './search.svelte';
import { WorkspaceDirectory } from './workspace.svelte';

/**
 * `#general`'s id: the same on every device, so two people who start offline end up in one
 * channel rather than two.
 */
export const GENERAL_ID = GENERAL_CHANNEL_ID;

export interface SessionOptions {
	opener: DocOpener;
	me: string;
	/** This device's public key (base64url), written into the profile. */
	publicKey?: string;
	connection: ConnectionSource;
	/** Where small per-device settings live (read markers, drafts); null keeps them in memory. */
	storage?: Storage | null;
	/** The person's devices (Settings); absent without a relay. */
	devices?: DeviceManager;
	/** The device's index (search, storage figures, freeing space); null where there is none. */
	db?: KithDb | null;
	/** System notifications; none where not given. */
	notifications?: NotificationSink | null;
}

/** A sink that shows nothing (tests, and where the platform has no notifications). */
const NO_NOTIFICATIONS: NotificationSink = {
	permission: () => 'unsupported',
	request: () => Promise.resolve('unsupported'),
	show: () => {}
};

/**
 * Everything one signed-in device shows, wired together: the workspace directory, presence,
 * the conversation list, read markers and drafts, over one injected {@link DocOpener}.
 *
 * @example
 * const session = await Session.start({ opener: indexeddbOpener(), me, connection });
 * if (!session.onboarded) await session.completeOnboarding('Ada', '#2563eb');
 */
export class Session {
	readonly opener: DocOpener;
	readonly me: string;
	readonly publicKey: string;
	readonly connection: ConnectionSource;
	readonly workspace: WorkspaceDirectory;
	readonly presence: Presence;
	readonly markers: ReadMarkers;
	readonly known: KnownConversations;
	readonly freed: FreedConversations;
	readonly drafts: Drafts;
	readonly conversations: ConversationList;
	readonly devices: DeviceManager | null;
	readonly db: KithDb | null;
	readonly notifier: MessageNotifier;
	/** The conversation on screen (set by its screen), for notifications. */
	current = $state<string | null>(null);
	/** Search across every conversation on the device (null without an index). */
	readonly search: MessageSearch | null;

	readonly onboarded = $derived.by(() => this.workspace.profile !== undefined);

	private constructor(options: SessionOptions, workspaceDoc: Y.Doc, inboxDoc: Y.Doc) {
		const storage = options.storage ?? null;
		this.opener = options.opener;
		this.me = options.me;
		this.publicKey = options.publicKey ?? '';
		this.connection = options.connection;
		this.devices = options.devices ?? null;
		this.workspace = new WorkspaceDirectory(workspaceDoc, options.me);
		this.presence = new Presence(options.opener.awareness?.(WORKSPACE_DOC) ?? null, options.me);
		this.markers = new ReadMarkers(options.me, storage);
		this.known = new KnownConversations(options.me, storage);
		this.freed = new FreedConversations(options.me, storage);
		this.drafts = new Drafts(options.me, storage);
		this.conversations = new ConversationList(
			options.opener,
			this.workspace,
			this.markers,
			this.known,
			this.freed,
			new DocSnapshot(inboxDoc, readInbox)
		);
		this.search = options.db
			? new MessageSearch(options.db, this.workspace, this.conversations)
			: null;
		this.db = options.db ?? null;
		this.notifier = new MessageNotifier(options.notifications ?? NO_NOTIFICATIONS, {
			name: (id) => this.workspace.name(id),
			current: () => this.current,
			visible: () => typeof document === 'undefined' || document.visibilityState === 'visible',
			url: (id) => `/c/${id}`,
			storage
		});
		const profile = this.workspace.profile;
		if (profile) this.announce();
	}

	static async start(options: SessionOptions): Promise<Session> {
		const doc = await options.opener.open(WORKSPACE_DOC);
		const inbox = await options.opener.open(inboxDocName(options.me));
		return new Session(options, doc, inbox);
	}

	/** Publishes who this device is to the others (presence). */
	announce(): void {
		const profile = this.workspace.profile;
		if (profile)
			this.presence.announce({ id: this.me, name: profile.display_name, color: profile.color });
	}

	/**
	 * Saves the profile and makes sure `#general` exists, lists it, and has this person in it.
	 * Returns `#general`'s id.
	 */
	async completeOnboarding(displayName: string, color: string): Promise<string> {
		this.workspace.saveProfile(displayName, color, this.publicKey);
		this.announce();
		await this.withConversation(GENERAL_ID, (doc) => {
			let meta = readMeta(doc);
			if (!meta) {
				meta = createConversation(doc, {
					kind: 'channel',
					id: GENERAL_ID,
					name: 'general',
					created_by: this.me,
					members: [this.me]
				});
			} else {
				addMember(doc, { user_id: this.me, added_by: this.me });
			}
			if (!this.workspace.channels.some((c) => c.id === GENERAL_ID))
				listChannel(this.workspace.doc, meta);
		});
		this.known.add(GENERAL_ID);
		return GENERAL_ID;
	}

	/** Creates a public channel with the given people; returns its id. */
	async createChannel(name: string, members: readonly string[] = []): Promise<string> {
		// Checked before a document is opened, so a bad name leaves nothing behind.
		checkConversationName(name);
		const id = newId();
		await this.withConversation(id, (doc) => {
			const meta = createConversation(doc, {
				kind: 'channel',
				id,
				name,
				created_by: this.me,
				members
			});
			listChannel(this.workspace.doc, meta);
		});
		this.known.add(id);
		return id;
	}

	/** Opens (creating when needed) the direct message with someone; returns its id. */
	async startDirectMessage(userId: string): Promise<string> {
		const id = directMessageId(this.me, userId);
		await this.withConversation(id, (doc) => {
			if (!readMeta(doc))
				createConversation(doc, { kind: 'dm', created_by: this.me, members: [this.me, userId] });
		});
		this.known.add(id);
		return id;
	}

	/** Runs `fn` on a conversation's document, opened for the duration. */
	async withConversation<T>(id: string, fn: (doc: Y.Doc) => T): Promise<T> {
		const name = conversationDocName(id);
		const doc = await this.opener.open(name);
		try {
			return fn(doc);
		} finally {
			this.opener.release(name);
		}
	}

	destroy(): void {
		this.conversations.destroy();
		this.presence.destroy();
		this.opener.release(WORKSPACE_DOC);
		this.opener.release(inboxDocName(this.me));
	}
}

const KEY = Symbol('kith-session');

export function setSession(session: Session): void {
	setContext(KEY, session);
}

export function getSession(): Session {
	const session = getContext<Session | undefined>(KEY);
	if (!session) throw new Error('getSession() needs a Session set by the root layout.');
	return session;
}
