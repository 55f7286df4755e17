/**
 * The registry of documents in memory, and the write path.
 *
 * - A document is loaded from storage synchronously before it is served (never an empty
 *   placeholder that a later load would race with), and leaves memory DOC_IDLE_MS after its
 *   last connection closes, once everything of it is stored.
 * - Writes: each incoming update is applied in its own transaction with the connection as
 *   origin and validated (access.ts). A refused update is undone by rebuilding the document
 *   from storage plus the accepted-but-not-yet-committed updates, synchronously, so no other
 *   connection ever sees it. An accepted update is queued; the queue is committed in one
 *   transaction (group commit), and only then forwarded to the other connections: per commit,
 *   not per update (one merged message, one socket write, per connection; `#forward`). The
 *   commit is made off the event loop (the store's writer thread: storage.ts), at most one at a
 *   time for the whole relay: what arrives while one is in flight waits in the queue and goes
 *   into the next, which starts as soon as the one before is answered (before that one's
 *   updates are forwarded, so its fsync overlaps their forwarding). One in flight keeps commit
 *   order = forward order across documents (an update and the inbox entry it causes), and
 *   SQLite has one writer anyway: two in flight would only queue in it, with an fsync each.
 *   A failed commit keeps the queue in memory and retries; nothing is dropped.
 * - Acknowledgements: each document keeps the state vector of what storage holds (`stored`),
 *   advanced only after a commit succeeded. Connections that asked for it (`ack=1`) get it
 *   when they open and, after each commit that advanced it, the entries that grew, before the
 *   commit's updates are forwarded (docs/PROTOCOL.md, "Delivery acknowledgements").
 */
import * as Y from 'yjs';
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import {
	conversationTypes,
	describeChanges,
	inboxDocName,
	inboxTypes,
	noteMembership,
	parseDocName,
	workspaceTypes,
	type ConversationKind
} from '../src/lib/model/index.ts';
import {
	conversationKind,
	validateConversationWrite,
	validateInboxWrite,
	validateWorkspaceWrite,
	type Violation
} from './access.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { MemoryRelease } from './memory.ts';
import type { Metrics } from './metrics.ts';
import {
	CloseCode,
	encodeAwarenessMessage,
	encodeStoredMessage,
	encodeSyncStep2,
	encodeUpdateMessage,
	frameHead,
	messageSync,
	storedFull,
	storedIncrement,
	syncStep2
} from './protocol.ts';
import { isDiskFull } from './storage.ts';
import type { Store } from './store.ts';

/** Compaction waits for this long without a commit (docs.ts, `#scheduleCompaction`). */
const COMPACT_QUIET_MS = 200;

/** A token bucket: `rate` per second, up to `burst` at once. */
export class Bucket {
	#tokens: number;
	#last = Date.now();
	constructor(
		readonly rate: number,
		readonly burst: number
	) {
		this.#tokens = burst;
	}
	take(): boolean {
		const now = Date.now();
		this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
		this.#last = now;
		if (this.#tokens < 1) return false;
		this.#tokens -= 1;
		return true;
	}
}

export interface Conn {
	id: number;
	ws: WebSocket;
	user: string;
	/** The device its token was issued to (null: an operator token); see devices.ts. */
	device?: string | null;
	address: string;
	entry: DocEntry;
	/** Awareness client ids this connection controls. */
	awarenessIds: Set<number>;
	updates: Bucket;
	awareness: Bucket;
	closed: boolean;
	alive: boolean;
	/** Asked for delivery acknowledgements (`ack=1`): gets the stored state vector. */
	ack: boolean;
}

/**
 * A document held without its Y.Doc: its whole state as one merged update (exactly what
 * storage holds: nothing is pending), and what access checks need. ~300 bytes per message
 * instead of ~2.4 KB as a Y.Doc (docs/ARCHITECTURE.md, "Cold documents").
 */
export interface ColdState {
	state: Uint8Array;
	/** The state vector of `state` (encoded). */
	vector: Uint8Array;
	/** `state` diffed against its own vector: no structs, only the delete set (an up-to-date peer's step 2). */
	deletes: Uint8Array;
	kind: ConversationKind | null;
	members: ReadonlySet<string>;
}

export class DocEntry {
	readonly conns = new Set<Conn>();
	/** Applied in memory and accepted, not yet committed. */
	readonly pending: Array<{ data: Uint8Array; from: Conn | null }> = [];
	/**
	 * The state vector of what storage holds for this document: client id → the clock below
	 * which every struct of that client is committed. Never ahead of storage: set from what was
	 * loaded, advanced only after a commit succeeded (never for `pending`, nor a failed write).
	 */
	readonly stored: Map<number, number>;
	readonly awarenessOwners = new Map<number, Conn>();
	idleTimer: NodeJS.Timeout | null = null;
	/** Turns the document cold after DOC_HOT_MS without a write (Docs, `#scheduleCold`). */
	coldTimer: NodeJS.Timeout | null = null;
	/** Set while one connection's update is being applied. */
	validating: {
		conn: Conn;
		violation: Violation;
		captured: Uint8Array[];
		removed: string[];
		/** Members the update adds (the relay lists the conversation in their inboxes). */
		added: string[];
		ownOnly: boolean;
	} | null = null;
	#doc: Y.Doc | null;
	#cold: ColdState | null;

	constructor(
		readonly name: string,
		readonly convId: string | null,
		held: Y.Doc | ColdState,
		readonly awareness: Awareness,
		/** Bytes stored for this document (snapshot + log + queued). */
		public bytes: number,
		public logCount: number,
		public lastUpdateId: number,
		/** Whether storage holds anything of this document. */
		public existed: boolean,
		readonly clientOwners: Map<number, string>,
		/** Builds the Y.Doc of a cold document, with the registry's listeners (Docs, `#warm`). */
		readonly warm: (entry: DocEntry, state: Uint8Array) => Y.Doc
	) {
		this.#doc = held instanceof Y.Doc ? held : null;
		this.#cold = held instanceof Y.Doc ? null : held;
		// Loaded from storage with nothing pending: the document holds exactly what is stored.
		this.stored = Y.decodeStateVector(this.stateVector());
	}

	/**
	 * The live Y.Doc, built from the cold state first when the document is cold (a write, or
	 * a reader that needs the whole document): every use of it is correct in either state.
	 */
	get doc(): Y.Doc {
		if (this.#doc) return this.#doc;
		const cold = this.#cold!;
		this.#doc = this.warm(this, cold.state);
		this.#cold = null;
		return this.#doc;
	}

	set doc(doc: Y.Doc) {
		this.#doc = doc;
		this.#cold = null;
	}

	/** The cold state, or null while the Y.Doc is live. */
	get cold(): ColdState | null {
		return this.#cold;
	}

	/** Drops the Y.Doc (the caller destroys it) and keeps the state as bytes. */
	freeze(cold: ColdState): void {
		this.#doc = null;
		this.#cold = cold;
	}

	/** The live Y.Doc if there is one, without warming a cold document. */
	get live(): Y.Doc | null {
		return this.#doc;
	}

	/** The document's state vector (sync step 1), from the bytes when cold. */
	stateVector(): Uint8Array {
		return this.#cold ? this.#cold.vector : Y.encodeStateVector(this.#doc!);
	}

	/**
	 * What a peer with state vector `vector` lacks (sync step 2), from the bytes when cold: the
	 * whole state for an empty vector, the delete set alone for an up-to-date peer, else
	 * `Y.diffUpdate`. The same content as `Y.encodeStateAsUpdate(doc, vector)`.
	 */
	diff(vector: Uint8Array): Uint8Array {
		const cold = this.#cold;
		if (!cold) return Y.encodeStateAsUpdate(this.#doc!, vector);
		const theirs = Y.decodeStateVector(vector);
		if (theirs.size === 0) return cold.state;
		let behind = false;
		for (const [client, clock] of Y.decodeStateVector(cold.vector)) {
			if ((theirs.get(client) ?? 0) < clock) behind = true;
		}
		return behind ? Y.diffUpdate(cold.state, vector) : cold.deletes;
	}

	/** The conversation's kind now (null: not created, or not a conversation). */
	kind(): ConversationKind | null {
		if (this.#cold) return this.#cold.kind;
		return conversationKind(this.#doc!);
	}

	/** Whether `user` is listed in the conversation's members now. */
	isMember(user: string): boolean {
		if (this.#cold) return this.#cold.members.has(user);
		return conversationTypes(this.#doc!).members.has(user);
	}
}

/** An accepted update waiting for its group commit. */
interface QueuedUpdate {
	entry: DocEntry;
	data: Uint8Array;
	from: Conn | null;
	removed: string[];
	/** Yjs client ids this update claims for its user, stored in the same commit. */
	claim: { clients: number[]; user: string } | null;
}

/**
 * What cluster mode (cluster/cluster.ts, REDIS_URL) needs to hear from the registry: null in
 * the embedded default, where nothing else changes.
 */
export interface DocsCluster {
	/** A document was loaded: start receiving what other relays store for it. */
	opened(entry: DocEntry): void;
	/** This relay stored updates of a document (in commit order): tell the other relays. */
	committed(
		entry: DocEntry,
		updates: ReadonlyArray<{ data: Uint8Array; claim: { clients: number[]; user: string } | null }>
	): void;
	/** A document left memory. */
	evicted(entry: DocEntry): void;
}

/** The transaction origin of the relay's own writes to inboxes. */
const INBOX_ORIGIN = Symbol('relay inbox');

/** The transaction origin of updates that are already stored (another relay's, or read back). */
export const STORED = Symbol('already stored');

export class StorageUnavailableError extends Error {}
export class OverloadedError extends Error {}

export class Docs {
	readonly docs = new Map<string, DocEntry>();
	readonly #queue: QueuedUpdate[] = [];
	/** The batch being committed (at most one at a time), null when none is. */
	#committing: QueuedUpdate[] | null = null;
	/** Told when the commit in flight ends (true: stored); see `#drain`. */
	readonly #commitEnded: Array<(ok: boolean) => void> = [];
	/** Documents with callers waiting until nothing of them waits to be stored (`whenSettled`). */
	readonly #settling = new Map<DocEntry, Array<(ok: boolean) => void>>();
	/** Documents whose compaction is being written. */
	readonly #compacting = new Set<DocEntry>();
	#flushScheduled = false;
	#retryTimer: NodeJS.Timeout | null = null;
	#compactTimer: NodeJS.Timeout | null = null;
	#compactUrgent = false;
	readonly #toCompact = new Set<DocEntry>();
	readonly userBuckets = new Map<string, { bucket: Bucket; conns: number }>();
	/** Set by main.ts in cluster mode only. */
	cluster: DocsCluster | null = null;
	/** Full GCs once evicted documents' memory is garbage and the relay is quiet (memory.ts). */
	readonly memory: MemoryRelease;

	constructor(
		readonly config: Config,
		readonly storage: Store,
		readonly log: Logger,
		readonly metrics: Metrics
	) {
		this.memory = new MemoryRelease(log, metrics.memoryReleases);
	}

	/** The loaded document, reading it from storage first if needed (synchronously). */
	get(name: string): DocEntry {
		const loaded = this.docs.get(name);
		if (loaded) {
			if (loaded.idleTimer) clearTimeout(loaded.idleTimer);
			loaded.idleTimer = null;
			// Touched without a connection (e.g. the workspace consulted for access): still evictable.
			if (loaded.conns.size === 0) this.#scheduleEviction(loaded);
			return loaded;
		}
		if (this.docs.size >= this.config.maxDocsInMemory) {
			for (const e of this.docs.values()) if (e.conns.size === 0) this.#evict(e);
			if (this.docs.size >= this.config.maxDocsInMemory)
				throw new OverloadedError('too many documents in memory');
		}
		this.memory.busy();
		const parsed = parseDocName(name);
		const stored = this.storage.load(name);
		const doc = this.#buildDoc(stored.updates, name);
		// Presence lives on a Y.Doc of its own: the document's is replaced (restore) or dropped
		// (cold), and an Awareness destroys itself with its doc.
		const awareness = new Awareness(new Y.Doc());
		awareness.setLocalState(null);
		const entry = new DocEntry(
			name,
			parsed?.kind === 'conversation' ? parsed.id : null,
			doc,
			awareness,
			stored.bytes,
			stored.logCount,
			stored.lastUpdateId,
			stored.exists,
			this.storage.clientOwners(name),
			(e, state) => this.#warm(e, state)
		);
		this.#attach(entry, doc);
		awareness.on(
			'update',
			({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) => {
				const changed = [...added, ...updated, ...removed];
				const message = encodeAwarenessMessage(encodeAwarenessUpdate(awareness, changed));
				for (const c of entry.conns) this.send(c, message);
			}
		);
		this.docs.set(name, entry);
		this.cluster?.opened(entry);
		this.metrics.docs.set(this.docs.size);
		this.log.debug({ doc: name, bytes: stored.bytes, log: stored.logCount }, 'document loaded');
		this.#scheduleEviction(entry);
		this.#scheduleCold(entry);
		return entry;
	}

	/** Builds a cold document's Y.Doc again (its first write, or a reader that needs it). */
	#warm(entry: DocEntry, state: Uint8Array): Y.Doc {
		const doc = this.#buildDoc([state], entry.name);
		this.#attach(entry, doc);
		// Counted once the entry holds it (DocEntry.doc), at the next transition: see #countCold.
		queueMicrotask(() => this.#countCold());
		this.log.debug({ doc: entry.name, bytes: state.byteLength }, 'document warmed');
		this.#scheduleCold(entry);
		return doc;
	}

	/**
	 * A document with no write for DOC_HOT_MS and at least COLD_MIN_BYTES stored drops its Y.Doc
	 * and keeps its state as one merged update (`DocEntry.freeze`): sync is served from the
	 * bytes, access from the kind and members kept beside them; the next write builds the Y.Doc
	 * again. The workspace stays live (every access check of a channel reads it).
	 */
	#scheduleCold(entry: DocEntry): void {
		if (this.config.docHotMs <= 0 || entry.convId === null) return;
		if (entry.coldTimer) {
			entry.coldTimer.refresh();
			return;
		}
		entry.coldTimer = setTimeout(() => {
			entry.coldTimer = null;
			this.#freeze(entry);
		}, this.config.docHotMs);
		entry.coldTimer.unref();
	}

	#freeze(entry: DocEntry): void {
		const doc = entry.live;
		if (!doc || this.docs.get(entry.name) !== entry || entry.validating) return;
		if (entry.bytes < this.config.coldMinBytes) return;
		if (!this.settled(entry)) {
			this.#scheduleCold(entry);
			return;
		}
		const state = Y.encodeStateAsUpdate(doc);
		const vector = Y.encodeStateVector(doc);
		// The state just encoded is also the compacted snapshot: store it while at it.
		if (entry.logCount > 0) void this.#compactWith(entry, state);
		entry.freeze({
			state,
			vector,
			// From the Y.Doc, not `Y.diffUpdate(state, vector)` (the same bytes): that decodes every
			// struct of the state, parsing each record's JSON, to keep none of them: 1.4–2.5 s on the
			// event loop and ~100 MB of garbage for 100,000 messages, against 11–33 ms here.
			deletes: Y.encodeStateAsUpdate(doc, vector),
			kind: conversationKind(doc),
			members: new Set(conversationTypes(doc).members.keys())
		});
		doc.destroy();
		this.#countCold();
		this.log.debug({ doc: entry.name, bytes: state.byteLength }, 'document cold');
		this.memory.freed();
	}

	#countCold(): void {
		let n = 0;
		for (const e of this.docs.values()) if (e.cold) n++;
		this.metrics.coldDocs.set(n);
	}

	/** Whether `user` may open a document as it is now (access.ts's rule, cold or live). */
	mayOpen(entry: DocEntry, user: string): boolean {
		return this.#readers(entry)(user);
	}

	#buildDoc(updates: readonly Uint8Array[], name: string): Y.Doc {
		const doc = new Y.Doc();
		// Typed before any update arrives: a top-level type first seen in an update is a generic
		// AbstractType, and typing it later would replace the object a transaction refers to.
		const kind = parseDocName(name)?.kind;
		if (kind === 'workspace') workspaceTypes(doc);
		else if (kind === 'inbox') inboxTypes(doc);
		else conversationTypes(doc);
		doc.transact(() => {
			for (const u of updates) Y.applyUpdate(doc, u);
		});
		return doc;
	}

	#attach(entry: DocEntry, doc: Y.Doc): void {
		doc.on('afterTransaction', (tr: Y.Transaction) => {
			const v = entry.validating;
			if (!v || tr.origin !== v.conn || v.violation) return;
			// An update with nothing new (a client's first sync step 2 of an empty document).
			if (tr.changed.size === 0 && tr.deleteSet.clients.size === 0) return;
			try {
				v.violation = this.#validate(entry, tr, v.conn.user);
				if (!v.violation && !entry.existed) v.ownOnly = onlyOwnContent(entry, tr, v.conn.user);
				if (!v.violation && entry.convId !== null) {
					for (const [user, value] of (this.#describeMembers(entry, tr) ?? new Map()).entries()) {
						(value === null ? v.removed : v.added).push(user);
					}
				}
			} catch (err) {
				v.violation = `validation failed: ${(err as Error).message}`;
			}
		});
		doc.on('update', (update: Uint8Array, origin: unknown) => {
			const v = entry.validating;
			if (v && origin === v.conn) v.captured.push(update);
		});
	}

	#describeMembers(entry: DocEntry, tr: Y.Transaction): Map<string, unknown> | null {
		const members = entry.doc.getMap('members');
		const keys = (tr.changed as Map<object, Set<string | null>>).get(members);
		if (!keys) return null;
		return new Map(
			[...keys].filter((k): k is string => k !== null).map((k) => [k, members.get(k) ?? null])
		);
	}

	#validate(entry: DocEntry, tr: Y.Transaction, user: string): Violation {
		if (entry.name !== 'workspace' && entry.convId === null)
			return validateInboxWrite(entry.doc, tr);
		if (entry.convId !== null) {
			return validateConversationWrite(entry.doc, tr, {
				convId: entry.convId,
				user,
				existed: entry.existed
			});
		}
		return validateWorkspaceWrite(entry.doc, tr, {
			user,
			existed: entry.existed,
			kindOf: (id) => this.#kindOf(id)
		});
	}

	#kindOf(convId: string): ConversationKind | null {
		const name = `conv:${convId}`;
		const loaded = this.docs.get(name);
		if (loaded) return loaded.kind();
		const stored = this.storage.load(name);
		return stored.exists ? conversationKind(this.#buildDoc(stored.updates, name)) : null;
	}

	/**
	 * Applies a client's update. Returns null when accepted (or a no-op), or the close code and
	 * reason when refused; a refused update leaves no trace.
	 */
	applyClientUpdate(conn: Conn, update: Uint8Array): { code: number; reason: string } | null {
		const entry = conn.entry;
		if (entry.bytes + update.byteLength > this.config.maxDocBytes) {
			return { code: CloseCode.documentTooLarge, reason: 'document size limit' };
		}
		let meta: { from: Map<number, number>; to: Map<number, number> };
		try {
			meta = Y.parseUpdateMeta(update);
		} catch {
			return { code: CloseCode.malformed, reason: 'update does not decode' };
		}
		// A cold document answers an update with nothing new (a reconnecting device's sync step 2)
		// without building its Y.Doc.
		if (entry.cold && nothingNew(entry.cold, meta.to, update)) return null;
		// A Yjs client id belongs to the user who first wrote with it in this document: two
		// users sharing one would make the relay drop one's structs as already known, and their
		// documents diverge for good.
		const sv = Y.getState;
		const newClients: number[] = [];
		for (const [client, clock] of meta.to) {
			if (clock <= sv(entry.doc.store, client)) continue;
			const owner = entry.clientOwners.get(client);
			if (owner !== undefined && owner !== conn.user) {
				this.metrics.refusedWrites.inc();
				return { code: CloseCode.refused, reason: 'client id of another user' };
			}
			if (owner === undefined) newClients.push(client);
		}
		const v = {
			conn,
			violation: null as Violation,
			captured: [] as Uint8Array[],
			removed: [] as string[],
			added: [] as string[],
			ownOnly: false
		};
		entry.validating = v;
		try {
			Y.applyUpdate(entry.doc, update, conn);
			if (entry.doc.store.pendingStructs !== null || entry.doc.store.pendingDs !== null) {
				v.violation ??= 'depends on updates the relay does not have';
			}
		} catch (err) {
			v.violation ??= `update does not apply: ${(err as Error).message}`;
		} finally {
			entry.validating = null;
		}
		if (v.violation) {
			this.metrics.refusedWrites.inc();
			this.log.warn(
				{ doc: entry.name, user: conn.user, conn: conn.id, reason: v.violation },
				'write refused'
			);
			this.restore(entry);
			return { code: CloseCode.refused, reason: v.violation.slice(0, 120) };
		}
		if (v.captured.length === 0) return null;
		const data = v.captured.length === 1 ? v.captured[0]! : Y.mergeUpdates(v.captured);
		// A first upload to an empty document may be a restore holding everyone's history: its
		// client ids are claimed only when everything in it is the uploader's own (a new
		// conversation); otherwise each is claimed by the next user who continues it.
		let claim: { clients: number[]; user: string } | null = null;
		if (newClients.length > 0 && (entry.existed || v.ownOnly)) {
			for (const c of newClients) entry.clientOwners.set(c, conn.user);
			// Stored with the update, in its group commit (one fsync, not one more per claim).
			claim = { clients: newClients, user: conn.user };
		}
		entry.bytes += data.byteLength;
		entry.pending.push({ data, from: conn });
		this.#queue.push({ entry, data, from: conn, removed: v.removed, claim });
		this.metrics.updatesIn.inc();
		// Queued after the update, so stored in the same commit: never listed and not a member.
		if (entry.convId !== null && v.added.length + v.removed.length > 0) {
			const kind = conversationKind(entry.doc);
			for (const user of v.added) this.#noteMembership(user, entry.convId, kind);
			for (const user of v.removed) this.#noteMembership(user, entry.convId, null);
		}
		this.#scheduleFlush();
		return null;
	}

	/**
	 * Lists a member's conversation in their inbox when it is not (a membership stored before
	 * inboxes existed, or an inbox lost with a relay's data): called when a member opens it.
	 */
	ensureListed(entry: DocEntry, user: string): void {
		// From the cold state when cold: opening a big idle channel must not rebuild its Y.Doc.
		if (entry.convId === null || !entry.isMember(user)) return;
		this.#noteMembership(user, entry.convId, entry.kind());
	}

	/**
	 * Writes a membership into `inbox:<user>` as the relay (docs/PROTOCOL.md, "Inbox"), queued
	 * for the next group commit like a client's update and forwarded to the person's devices
	 * after it. The inbox only tells devices what to open; access is checked per conversation,
	 * so a failure here is logged, never a refusal of the write that caused it.
	 */
	#noteMembership(user: string, convId: string, kind: ConversationKind | null): void {
		try {
			const inbox = this.get(inboxDocName(user));
			const before = Y.encodeStateVector(inbox.doc);
			if (!noteMembership(inbox.doc, convId, kind, INBOX_ORIGIN)) return;
			const data = Y.encodeStateAsUpdate(inbox.doc, before);
			inbox.bytes += data.byteLength;
			inbox.pending.push({ data, from: null });
			this.#queue.push({ entry: inbox, data, from: null, removed: [], claim: null });
			this.#scheduleFlush();
		} catch (err) {
			this.log.error({ err, user, conv: convId }, 'could not update an inbox');
		}
	}

	/** Rebuilds a document from storage plus its accepted, uncommitted updates. */
	restore(entry: DocEntry): void {
		const stored = this.storage.load(entry.name);
		const old = entry.doc;
		entry.doc = this.#buildDoc(
			[...stored.updates, ...entry.pending.map((p) => p.data)],
			entry.name
		);
		this.#attach(entry, entry.doc);
		// Cluster: storage may hold what other relays stored and this one has not received yet;
		// the connections get it now (what they already have costs them nothing).
		if (this.cluster) {
			this.#deliverStored(
				entry,
				Y.encodeStateAsUpdate(entry.doc, Y.encodeStateVector(old)),
				[],
				new Map()
			);
		}
		old.destroy();
	}

	#scheduleFlush(): void {
		if (this.#flushScheduled) return;
		this.#flushScheduled = true;
		setImmediate(() => {
			this.#flushScheduled = false;
			this.flush();
		});
	}

	/**
	 * Starts committing the queue, in one transaction, unless a commit is in flight (what is
	 * queued then goes into the next one, started when that one is answered). The updates are
	 * acknowledged and forwarded once the commit is answered; a failed write keeps them queued
	 * and retries.
	 */
	flush(): void {
		if (this.#committing !== null || this.#queue.length === 0) return;
		const batch = this.#queue.splice(0, this.#queue.length);
		this.#committing = batch;
		const end = this.metrics.writeSeconds.startTimer();
		let commit: Promise<number[]>;
		try {
			commit = this.storage.append(
				batch.map((b) => ({ doc: b.entry.name, data: b.data })),
				batch.flatMap((b) => (b.claim ? [{ doc: b.entry.name, ...b.claim }] : []))
			);
		} catch (err) {
			commit = Promise.reject(err as Error);
		}
		commit.then(
			(ids) => {
				end();
				this.#committed(batch, ids);
			},
			(err: unknown) => {
				end();
				this.#failed(batch, err);
			}
		);
	}

	#committed(batch: QueuedUpdate[], ids: readonly number[]): void {
		this.#committing = null;
		if (this.#retryTimer) {
			clearTimeout(this.#retryTimer);
			this.#retryTimer = null;
			this.log.info({ updates: batch.length }, 'storage writes succeed again');
		}
		// The next commit first: its fsync on the writer thread overlaps this one's forwarding.
		this.flush();
		// Committed: only now may the stored state vectors advance, and they are told before the
		// updates go out, so a device never sees someone's stored message as pending. (A throw
		// below is a bug: as an unhandled rejection it ends the process, as it did before.)
		const grown = new Map<DocEntry, Map<number, number>>();
		for (const b of batch) {
			for (const [client, clock] of Y.parseUpdateMeta(b.data).to) {
				if (clock <= (b.entry.stored.get(client) ?? 0)) continue;
				b.entry.stored.set(client, clock);
				let g = grown.get(b.entry);
				if (!g) grown.set(b.entry, (g = new Map()));
				g.set(client, clock);
			}
		}
		// Everything this commit sends a connection (its acknowledgement, then the updates) goes
		// out in one write: a connection that gets an acknowledgement is corked until the end of
		// the commit (#forward corks one that gets several updates). One that gets a single
		// message is written at once: ws writes a frame in one writev already, and corking the
		// other 200 readers of a channel only held back the first ones' writes until the last.
		const corked = corkAcking(grown.keys());
		try {
			this.#deliver(batch, ids, grown);
		} finally {
			for (const socket of corked) socket.uncork();
		}

		for (const [entry, waiting] of this.#settling) {
			if (entry.pending.length > 0) continue;
			this.#settling.delete(entry);
			for (const done of waiting) done(true);
		}
		for (const done of this.#commitEnded.splice(0)) done(true);
	}

	#failed(batch: QueuedUpdate[], err: unknown): void {
		this.#committing = null;
		// Back at the head of the queue, before what arrived meanwhile: commit order is kept.
		this.#queue.unshift(...batch);
		this.#onWriteFailure(err, batch);
		for (const b of batch) {
			const waiting = this.#settling.get(b.entry);
			if (!waiting) continue;
			this.#settling.delete(b.entry);
			for (const done of waiting) done(false);
		}
		for (const done of this.#commitEnded.splice(0)) done(false);
	}

	#deliver(
		batch: readonly QueuedUpdate[],
		ids: readonly number[],
		grown: ReadonlyMap<DocEntry, Map<number, number>>
	): void {
		for (const [entry, g] of grown) this.#acknowledge(entry, g);
		// The commit's updates by document, in commit order.
		const perDoc = new Map<DocEntry, QueuedUpdate[]>();
		batch.forEach((b, i) => {
			const entry = b.entry;
			entry.lastUpdateId = ids[i]!;
			entry.logCount++;
			entry.pending.shift();
			entry.existed = true;
			const list = perDoc.get(entry);
			if (list) list.push(b);
			else perDoc.set(entry, [b]);
		});
		// A waiting compaction (and memory release) is pushed back by every commit while traffic lasts.
		if (this.#compactTimer && !this.#compactUrgent) this.#compactTimer.refresh();
		this.memory.busy();
		for (const [entry, list] of perDoc) {
			this.#forward(entry, list);
			this.cluster?.committed(entry, list);
			this.#scheduleCold(entry);
			if (entry.logCount >= this.config.compactAfterUpdates) this.#scheduleCompaction(entry);
		}
	}

	/**
	 * Forwards one commit's updates of a document, in commit order, to every connection except
	 * the one each came from. A connection that sent nothing in this commit gets ONE message:
	 * the commit's updates merged with `Y.mergeUpdates` (once, shared by all of them; a device
	 * applies one update instead of many). A connection that did send some gets the others'
	 * updates as they are (a merge per such connection would cost more than it saves), written
	 * in the same corked write. Either way a commit costs one socket write per connection.
	 */
	#forward(entry: DocEntry, list: readonly QueuedUpdate[]): void {
		const senders = new Set<Conn>();
		for (const b of list) if (b.from) senders.add(b.from);
		const single = new Map<QueuedUpdate, Buffer>();
		const messageOf = (b: QueuedUpdate): Buffer => {
			let m = single.get(b);
			if (!m) single.set(b, (m = asBuffer(encodeUpdateMessage(b.data))));
			return m;
		};
		let merged: Buffer | null | undefined;
		const mergedMessage = (): Buffer | null => {
			if (merged !== undefined) return merged;
			try {
				merged =
					list.length === 1
						? messageOf(list[0]!)
						: asBuffer(encodeUpdateMessage(Y.mergeUpdates(list.map((b) => b.data))));
			} catch (err) {
				// Never expected (each update was applied); the updates then go one by one.
				this.log.error({ err, doc: entry.name }, 'could not merge a commit’s updates');
				merged = null;
			}
			return merged;
		};
		// Access is re-checked before every forward: a connection opened before the
		// conversation existed, or whose user was just removed, gets nothing more of it.
		const mayRead = this.#readers(entry);
		// Counted once per commit, not per connection (prom-client's inc is not free × 200).
		let bytes = 0;
		let sent = 0;
		for (const c of [...entry.conns]) {
			if (!mayRead(c.user)) {
				const removed = list.some((b) => b.removed.includes(c.user));
				this.close(
					c,
					removed ? CloseCode.removed : CloseCode.forbidden,
					removed ? 'removed from the conversation' : 'not a member of this conversation'
				);
				continue;
			}
			const m = senders.has(c) ? null : mergedMessage();
			if (m) {
				const n = this.#write(c, m);
				bytes += n;
				if (n > 0) sent += list.length;
				continue;
			}
			// Several messages for one connection: one write.
			const socket = list.length > 1 ? socketOf(c.ws) : null;
			const cork = socket !== null && !socket.writableCorked;
			if (cork) socket.cork();
			try {
				for (const b of list) {
					if (b.from === c) continue;
					const n = this.#write(c, messageOf(b));
					bytes += n;
					if (n > 0) sent++;
				}
			} finally {
				if (cork) socket.uncork();
			}
		}
		if (bytes > 0) this.metrics.bytesOut.inc(bytes);
		if (sent > 0) this.metrics.updatesOut.inc(sent);
	}

	/**
	 * Cluster mode: applies updates that are already stored (committed by another relay, or read
	 * back from storage to catch up), never validated again (the relay that received them did).
	 * What was new to this relay is acknowledged and forwarded like a commit of its own, and a
	 * connection whose user lost access is closed. Claims of Yjs client ids made elsewhere are
	 * learnt. When the updates depend on something this relay missed, it reads the document
	 * back from storage (synchronously): a document with pending structs would refuse the next
	 * client update.
	 */
	applyStored(
		entry: DocEntry,
		updates: readonly Uint8Array[],
		claims: ReadonlyArray<{ clients: readonly number[]; user: string }> = [],
		/** The state vector of everything storage holds, when known (a catch-up). */
		storedVector: ReadonlyMap<number, number> = new Map()
	): void {
		if (this.docs.get(entry.name) !== entry) return; // evicted meanwhile
		for (const c of claims) {
			for (const id of c.clients)
				if (!entry.clientOwners.has(id)) entry.clientOwners.set(id, c.user);
		}
		const members =
			entry.convId !== null ? new Set(conversationTypes(entry.doc).members.keys()) : null;
		const changes: Uint8Array[] = [];
		const capture = (u: Uint8Array, origin: unknown): void => {
			if (origin === STORED) changes.push(u);
		};
		const grown = new Map<number, number>();
		for (const [client, clock] of storedVector) {
			if (clock > (entry.stored.get(client) ?? 0)) grown.set(client, clock);
		}
		const apply = (list: readonly Uint8Array[]): void => {
			entry.doc.transact(() => {
				for (const u of list) {
					Y.applyUpdate(entry.doc, u, STORED);
					for (const [client, clock] of Y.parseUpdateMeta(u).to) {
						if (clock > (entry.stored.get(client) ?? 0) && clock > (grown.get(client) ?? 0))
							grown.set(client, clock);
					}
				}
			}, STORED);
		};
		entry.doc.on('update', capture);
		try {
			apply(updates);
			if (entry.doc.store.pendingStructs !== null || entry.doc.store.pendingDs !== null) {
				this.log.info({ doc: entry.name }, 'missed an update from another relay: reading it back');
				apply(this.storage.load(entry.name).updates);
			}
		} finally {
			entry.doc.off('update', capture);
		}
		for (const [client, clock] of grown) entry.stored.set(client, clock);
		const removed = members
			? [...members].filter((u) => !conversationTypes(entry.doc).members.has(u))
			: [];
		if (changes.length > 0) {
			entry.existed = true;
			for (const u of changes) entry.bytes += u.byteLength;
			entry.logCount += updates.length;
		}
		const data =
			changes.length === 0 ? null : changes.length === 1 ? changes[0]! : Y.mergeUpdates(changes);
		this.#deliverStored(entry, data, removed, grown);
		if (entry.logCount >= this.config.compactAfterUpdates) this.#scheduleCompaction(entry);
		this.#scheduleCold(entry);
	}

	/** Acknowledges and forwards stored updates that came from elsewhere (one corked write each). */
	#deliverStored(
		entry: DocEntry,
		data: Uint8Array | null,
		removed: string[],
		grown: Map<number, number>
	): void {
		if (data === null && grown.size === 0) return;
		const corked = corkAcking(grown.size > 0 ? [entry] : []);
		try {
			if (grown.size > 0) this.#acknowledge(entry, grown);
			if (data) this.#forward(entry, [{ entry, data, from: null, removed, claim: null }]);
		} finally {
			for (const socket of corked) socket.uncork();
		}
	}

	/**
	 * Sends the entries of the stored state vector that grew in one commit to every connection
	 * of the document that asked for acknowledgements and may read it: one message per
	 * connection per commit.
	 */
	#acknowledge(entry: DocEntry, grown: Map<number, number>): void {
		const acking = [...entry.conns].filter((c) => c.ack);
		if (acking.length === 0) return;
		const mayRead = this.#readers(entry);
		const message = encodeStoredMessage(storedIncrement, Y.encodeStateVector(grown));
		for (const c of acking) if (mayRead(c.user)) this.send(c, message);
	}

	/** Sends a connection that asked for acknowledgements the whole stored state vector. */
	sendStored(conn: Conn): void {
		if (!conn.ack) return;
		this.send(conn, encodeStoredMessage(storedFull, Y.encodeStateVector(conn.entry.stored)));
	}

	#onWriteFailure(err: unknown, batch: ReadonlyArray<{ from: Conn | null }>): void {
		this.metrics.writeFailures.inc();
		const full = isDiskFull(err);
		this.log.error(
			{ err, code: (err as { code?: string }).code, queued: this.#queue.length, diskFull: full },
			full ? 'storage is full: updates kept in memory, retrying' : 'storage write failed: retrying'
		);
		// The writers still hold their updates: tell them to come back later. Their updates stay
		// queued here too, and are stored when the disk has room again.
		for (const b of batch) {
			if (b.from && !b.from.closed)
				this.close(b.from, CloseCode.storageUnavailable, 'storage unavailable');
		}
		// Retried until it succeeds (a failure of the retry comes back here).
		if (!this.#retryTimer) {
			this.#retryTimer = setTimeout(() => {
				this.#retryTimer = null;
				this.flush();
			}, this.config.storageRetryMs);
		}
	}

	/**
	 * Whether a document has nothing waiting to be stored; when it has, starts storing it and
	 * returns false (the caller tries again later, or waits with `whenSettled`).
	 */
	settled(entry: DocEntry): boolean {
		if (entry.pending.length > 0) this.flush();
		return entry.pending.length === 0;
	}

	/**
	 * Calls `done(true)` once nothing of the document waits to be stored: at once when nothing
	 * does, else after the commit that stores the last of it; `done(false)` when a commit of it
	 * failed.
	 *
	 * @example
	 *   docs.whenSettled(entry, (ok) => (ok ? serve(conn) : refuse(conn)));
	 */
	whenSettled(entry: DocEntry, done: (ok: boolean) => void): void {
		if (entry.pending.length === 0) return done(true);
		const waiting = this.#settling.get(entry);
		if (waiting) waiting.push(done);
		else this.#settling.set(entry, [done]);
		this.flush();
	}

	/**
	 * Who may read a document as it is now (access.ts's rule for opening it): a member of the
	 * conversation, or anyone in the workspace for a channel it lists. The kind, the members and
	 * the workspace's listing are read once, not once per connection: a commit to a channel of
	 * 200 readers checked them 200 times (conversationTypes builds six type handles per call).
	 * Valid until the documents change: take a new one per commit.
	 */
	#readers(entry: DocEntry): (user: string) => boolean {
		const convId = entry.convId;
		if (convId === null) return () => true;
		const kind = entry.kind();
		if (kind === null) return () => true; // not created yet: the first write must create it
		const cold = entry.cold;
		const members: { has(user: string): boolean } = cold
			? cold.members
			: conversationTypes(entry.doc).members;
		let listed: boolean | undefined;
		return (user) =>
			members.has(user) ||
			(kind === 'channel' &&
				(listed ??= workspaceTypes(this.get('workspace').doc).channels.has(convId)));
	}

	/**
	 * Compaction re-encodes the whole document on the event loop: it waits for a quiet moment
	 * (no commit for COMPACT_QUIET_MS) so that it never delays an update between its receipt and
	 * its forward, unless the log has grown to 4× the threshold under sustained traffic.
	 */
	#scheduleCompaction(entry: DocEntry): void {
		this.#toCompact.add(entry);
		const urgent = entry.logCount >= 4 * this.config.compactAfterUpdates;
		if (this.#compactTimer && (this.#compactUrgent || !urgent)) return;
		if (this.#compactTimer) clearTimeout(this.#compactTimer);
		this.#compactUrgent = urgent;
		this.#compactTimer = setTimeout(
			() => {
				this.#compactTimer = null;
				const next = this.#toCompact.values().next();
				if (next.done) return;
				this.#toCompact.delete(next.value);
				void this.compact(next.value);
				if (this.#toCompact.size > 0) this.#scheduleCompaction([...this.#toCompact][0]!);
			},
			urgent ? 0 : COMPACT_QUIET_MS
		);
	}

	/** Replaces a document's log by one snapshot (resolves once written, or failed and logged). */
	compact(entry: DocEntry): Promise<void> {
		if (entry.logCount === 0 || this.#compacting.has(entry) || !this.settled(entry))
			return Promise.resolve();
		return this.#compactWith(entry, entry.cold?.state ?? Y.encodeStateAsUpdate(entry.doc));
	}

	/**
	 * Stores `state` (the document's whole state, nothing pending) in place of its log. Written
	 * after the commits before it and before the later ones (storage.ts): the rows committed
	 * meanwhile stay in the log, and are counted on.
	 */
	#compactWith(entry: DocEntry, state: Uint8Array): Promise<void> {
		if (this.#compacting.has(entry)) return Promise.resolve();
		this.#compacting.add(entry);
		const end = this.metrics.compactionSeconds.startTimer();
		const rows = entry.logCount;
		const bytes = entry.bytes;
		let written: Promise<void>;
		try {
			written = this.storage.compact(entry.name, state, entry.lastUpdateId);
		} catch (err) {
			written = Promise.reject(err as Error);
		}
		return written.then(
			() => {
				end();
				this.#compacting.delete(entry);
				entry.logCount -= rows;
				entry.bytes -= bytes - state.byteLength;
				this.metrics.compactions.inc();
				this.log.debug({ doc: entry.name, bytes: state.byteLength }, 'document compacted');
			},
			(err: unknown) => {
				end();
				this.#compacting.delete(entry);
				this.log.error({ err, doc: entry.name }, 'compaction failed; the log is intact');
			}
		);
	}

	#scheduleEviction(entry: DocEntry): void {
		if (entry.idleTimer) clearTimeout(entry.idleTimer);
		entry.idleTimer = setTimeout(() => {
			entry.idleTimer = null;
			if (entry.conns.size > 0) return;
			if (!this.settled(entry)) {
				this.#scheduleEviction(entry);
				return;
			}
			this.#evict(entry);
		}, this.config.docIdleMs);
		entry.idleTimer.unref();
	}

	#evict(entry: DocEntry): void {
		if (entry.conns.size > 0 || !this.settled(entry)) return;
		if (entry.logCount >= 50) void this.compact(entry);
		if (entry.idleTimer) clearTimeout(entry.idleTimer);
		if (entry.coldTimer) clearTimeout(entry.coldTimer);
		this.#toCompact.delete(entry);
		entry.awareness.destroy();
		entry.awareness.doc.destroy();
		entry.live?.destroy();
		this.docs.delete(entry.name);
		if (entry.cold) this.#countCold();
		this.cluster?.evicted(entry);
		this.metrics.docs.set(this.docs.size);
		this.memory.freed();
		this.log.debug({ doc: entry.name }, 'document evicted');
	}

	addConn(conn: Conn): void {
		const entry = conn.entry;
		if (entry.idleTimer) clearTimeout(entry.idleTimer);
		entry.idleTimer = null;
		entry.conns.add(conn);
		const u = this.userBuckets.get(conn.user);
		if (u) u.conns++;
		else
			this.userBuckets.set(conn.user, {
				bucket: new Bucket(this.config.userUpdateRate, this.config.userUpdateBurst),
				conns: 1
			});
		this.metrics.connections.inc();
	}

	/** Forgets a closed connection: its awareness states go at once, for everyone. */
	removeConn(conn: Conn): void {
		const entry = conn.entry;
		if (!entry.conns.delete(conn)) return;
		this.metrics.connections.dec();
		const owned = [...conn.awarenessIds].filter((id) => entry.awarenessOwners.get(id) === conn);
		for (const id of owned) entry.awarenessOwners.delete(id);
		conn.awarenessIds.clear();
		if (owned.length > 0) removeAwarenessStates(entry.awareness, owned, 'connection closed');
		const u = this.userBuckets.get(conn.user);
		if (u && --u.conns === 0) this.userBuckets.delete(conn.user);
		if (entry.conns.size === 0) this.#scheduleEviction(entry);
	}

	send(conn: Conn, message: Uint8Array): void {
		const n = this.#write(conn, message);
		if (n > 0) this.metrics.bytesOut.inc(n);
	}

	/**
	 * Sends sync step 2 holding `update`. A big one (a device joining a long channel) goes out as
	 * one WebSocket message in two frames, its few header bytes and then the update itself, so
	 * the update is never copied: a cold document's state is sent from the bytes it keeps, a hot
	 * one's from `Y.encodeStateAsUpdate`'s result (a copy was 30 MB more per joining device).
	 */
	sendStep2(conn: Conn, update: Uint8Array): void {
		if (update.byteLength < FRAGMENT_FROM_BYTES) return this.send(conn, encodeSyncStep2(update));
		const head = frameHead([messageSync, syncStep2], update.byteLength);
		const n = this.#write(conn, head, FIRST_FRAGMENT);
		if (n === 0) return;
		// Nothing can come between the two frames: the second is queued in the same turn.
		conn.ws.send(update, SEND_OPTIONS);
		this.metrics.bytesOut.inc(n + update.byteLength);
	}

	/**
	 * Writes one message to a connection unless it is closed, or closes it as a slow reader;
	 * returns the bytes written (0: none). No callback: a failed write errors the socket, which
	 * closes the connection (connection.ts logs it), and a closure per send × 200 readers per
	 * commit was garbage.
	 */
	#write(
		conn: Conn,
		message: Uint8Array,
		options: typeof SEND_OPTIONS | typeof FIRST_FRAGMENT = SEND_OPTIONS
	): number {
		const ws = conn.ws;
		if (conn.closed || ws.readyState !== ws.OPEN) return 0;
		if (ws.bufferedAmount > this.config.maxBufferedBytes) {
			this.close(conn, CloseCode.slowReader, 'slow reader');
			return 0;
		}
		ws.send(message, options);
		return message.byteLength;
	}

	close(conn: Conn, code: number, reason: string): void {
		if (conn.closed) return;
		conn.closed = true;
		this.metrics.closes.inc({ code: String(code) });
		this.log.info(
			{ conn: conn.id, user: conn.user, doc: conn.entry.name, code, reason },
			'closing connection'
		);
		try {
			conn.ws.close(code, reason.slice(0, 120));
		} catch {
			conn.ws.terminate();
		}
		// Forget it now rather than at the close handshake: its presence must go at once.
		this.removeConn(conn);
		// A peer that never answers the close handshake is cut off.
		setTimeout(() => conn.ws.terminate(), 2000).unref();
	}

	/**
	 * Resolves once nothing is queued or being committed (true), or a commit failed (false).
	 * Updates that arrive meanwhile are waited for too.
	 */
	async #drain(): Promise<boolean> {
		for (;;) {
			if (this.#committing === null) {
				if (this.#queue.length === 0) return true;
				this.flush();
			}
			const ok = await new Promise<boolean>((resolve) => this.#commitEnded.push(resolve));
			if (!ok) return false;
		}
	}

	/** Stores everything queued (retrying briefly), compacts, and frees every document. */
	async shutdown(): Promise<boolean> {
		let ok = await this.#drain();
		for (let i = 0; i < 5 && !ok; i++) ok = await this.#drain();
		const compactions: Array<Promise<void>> = [];
		for (const entry of [...this.docs.values()]) {
			for (const c of [...entry.conns]) this.close(c, CloseCode.goingAway, 'relay shutting down');
			if (ok && entry.logCount >= 50) compactions.push(this.compact(entry));
		}
		await Promise.all(compactions);
		for (const entry of [...this.docs.values()]) {
			entry.awareness.destroy();
			entry.awareness.doc.destroy();
			entry.live?.destroy();
			if (entry.idleTimer) clearTimeout(entry.idleTimer);
			if (entry.coldTimer) clearTimeout(entry.coldTimer);
		}
		this.docs.clear();
		this.memory.stop();
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		if (this.#compactTimer) clearTimeout(this.#compactTimer);
		return ok;
	}
}

/** The TCP socket under a WebSocket (ws keeps it in `_socket`), to cork it for a commit. */
function socketOf(ws: WebSocket): Socket | null {
	const socket = (ws as unknown as { _socket?: Socket | null })._socket;
	return socket && typeof socket.cork === 'function' ? socket : null;
}

/** Corks the sockets of the connections that asked for acknowledgements; returns them. */
function corkAcking(entries: Iterable<DocEntry>): Socket[] {
	const corked: Socket[] = [];
	for (const entry of entries) {
		for (const c of entry.conns) {
			if (!c.ack) continue;
			const socket = socketOf(c.ws);
			if (socket && !socket.writableCorked) {
				socket.cork();
				corked.push(socket);
			}
		}
	}
	return corked;
}

/**
 * The same bytes as a Buffer (a view, no copy), once per commit: ws makes a Buffer view of
 * anything else on every send, one more object per reader per commit.
 */
function asBuffer(bytes: Uint8Array): Buffer {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Binary, never compressed (the server has no permessage-deflate), one frame. */
const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const;
/** The first frame of a message sent in two (`sendStep2`). */
const FIRST_FRAGMENT = { binary: true, compress: false, fin: false } as const;
/** A sync step 2 at least this big is sent in two frames, the update uncopied. */
const FRAGMENT_FROM_BYTES = 64 * 1024;

/** Whether everything a transaction wrote is attributed to `user` (meta, members, records, profiles). */
function onlyOwnContent(entry: DocEntry, tr: Y.Transaction, user: string): boolean {
	const doc = entry.doc;
	if (entry.convId === null) {
		const { users, channels } = workspaceTypes(doc);
		return (
			[...users.keys()].every((k) => k === user) &&
			[...channels.values()].every((c) => c?.created_by === user)
		);
	}
	const t = conversationTypes(doc);
	const changes = describeChanges(doc, tr);
	return (
		t.meta.get('created_by') === user &&
		[...t.members.values()].every((m) => m?.added_by === user) &&
		changes.records.every((r) => r.created_by === user) &&
		changes.reactions.every((r) => r.userId === user) &&
		[...changes.edits.values()].every((e) => e === null || e.edited_by === user)
	);
}

/**
 * Whether an update holds nothing a cold document lacks: every struct below its state vector
 * and every deletion already in its delete set (a reconnecting device's sync step 2 carries its
 * whole delete set). Conservative: false sends the update through the live Y.Doc.
 */
function nothingNew(cold: ColdState, to: Map<number, number>, update: Uint8Array): boolean {
	const vector = Y.decodeStateVector(cold.vector);
	for (const [client, clock] of to) if (clock > (vector.get(client) ?? 0)) return false;
	const theirs = Y.decodeUpdate(update).ds.clients;
	if (theirs.size === 0) return true;
	const ours = Y.decodeUpdate(cold.deletes).ds.clients;
	for (const [client, ranges] of theirs) {
		const have = ours.get(client) ?? [];
		for (const { clock, len } of ranges) {
			if (len === 0) continue;
			// The delete set is sorted and merged: one range must cover [clock, clock + len).
			if (!have.some((h) => h.clock <= clock && clock + len <= h.clock + h.len)) return false;
		}
	}
	return true;
}
