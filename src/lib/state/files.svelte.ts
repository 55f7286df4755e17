import { getContext, setContext } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import { blobUrl, formatBytes, newId, Limits, type FileAttachment } from '$lib/model';
import {
	getBlob,
	noteUploadAttempt,
	putBlob,
	queuedUploads,
	queueUploads,
	removeUpload,
	type KithDb
} from '$lib/db';
import {
	BlobTransferError,
	DEFAULT_MAX_UPLOAD_BYTES,
	downloadBlob,
	fetchBlobLimits,
	FileTooLargeError,
	uploadBlob,
	type BlobLimits
} from '$lib/sync/blob-transfer';

type KeyStore = Pick<Storage, 'getItem' | 'setItem'>;

/** What a file is shown as. */
export type MediaKind = 'image' | 'video' | 'audio' | 'file';

export function mediaKind(type: string): MediaKind {
	if (/^image\/(png|jpeg|gif|webp|avif|bmp)$/i.test(type)) return 'image';
	if (/^video\//i.test(type)) return 'video';
	if (/^audio\//i.test(type)) return 'audio';
	return 'file';
}

/**
 * The type a `blob:` URL of this origin gets. A `blob:` URL runs as this origin when opened, so
 * only media types that never run script keep their own; everything else (HTML, SVG, PDF…)
 * becomes `application/octet-stream` and downloads.
 */
export function safeType(type: string): string {
	return mediaKind(type) === 'file' ? 'application/octet-stream' : type;
}

/** A file picked, dropped or pasted, stored on the device and waiting for Send. */
export interface StagedFile {
	key: string;
	name: string;
	type: string;
	size: number;
	sha256: string;
	kind: MediaKind;
	/** A thumbnail made on the device (images, videos), or null. */
	preview: string | null;
}

/** One queued upload as the UI shows it. */
export interface UploadStatus {
	state: 'queued' | 'uploading' | 'failed';
	loaded: number;
	total: number;
	/** Why the relay refused it for good. */
	error: string | null;
}

/** The bytes of one blob on this device, loaded (or downloaded) on first use. */
export class MediaHandle {
	/**
	 * `loading`; `ready` (url set); `waiting`: not on the relay yet (the sender has not uploaded
	 * it) or the relay cannot be reached, tried again later; `error`: refused for good.
	 */
	status = $state<'loading' | 'ready' | 'waiting' | 'error'>('loading');
	/** A `blob:` URL of the bytes, typed with {@link safeType}. */
	url = $state<string | null>(null);
	/** A thumbnail made on this device (images and videos). */
	thumb = $state<string | null>(null);
	error = $state<string | null>(null);
	/** While `waiting`: for the sender to upload it, or for the relay to be reachable. */
	waitingFor = $state<'sender' | 'relay'>('relay');
	readonly sha256: string;
	readonly type: string;

	constructor(sha256: string, type: string) {
		this.sha256 = sha256;
		this.type = type;
	}
}

const THUMB_MAX = 480;
const LIMITS_KEY = 'kith:blob-limits';
const MAX_RETRY_MS = 30_000;

/** A thumbnail of an image or a video's first frame, as a `blob:` URL; null when it fails. */
export async function makeThumbnail(data: Blob, kind: MediaKind): Promise<string | null> {
	try {
		let source: CanvasImageSource & { width?: number; height?: number };
		let width: number;
		let height: number;
		if (kind === 'image') {
			const bitmap = await createImageBitmap(data);
			source = bitmap;
			width = bitmap.width;
			height = bitmap.height;
		} else if (kind === 'video') {
			const video = document.createElement('video');
			video.muted = true;
			video.preload = 'auto';
			const url = URL.createObjectURL(data);
			video.src = url;
			try {
				await new Promise<void>((resolve, reject) => {
					const timer = setTimeout(() => reject(new Error('timeout')), 5000);
					video.onloadeddata = () => {
						video.currentTime = Math.min(0.1, (video.duration || 0) / 2);
					};
					video.onseeked = () => {
						clearTimeout(timer);
						resolve();
					};
					video.onerror = () => {
						clearTimeout(timer);
						reject(new Error('video'));
					};
				});
			} finally {
				URL.revokeObjectURL(url);
			}
			source = video;
			width = video.videoWidth;
			height = video.videoHeight;
		} else {
			return null;
		}
		if (!width || !height) return null;
		const scale = Math.min(1, THUMB_MAX / Math.max(width, height));
		const canvas = document.createElement('canvas');
		canvas.width = Math.max(1, Math.round(width * scale));
		canvas.height = Math.max(1, Math.round(height * scale));
		canvas.getContext('2d')?.drawImage(source, 0, 0, canvas.width, canvas.height);
		if ('close' in source && typeof source.close === 'function') source.close();
		const thumb = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/webp', 0.8));
		return thumb ? URL.createObjectURL(thumb) : null;
	} catch {
		return null;
	}
}

export interface FilesOptions {
	db: KithDb;
	/** The relay's origin (`location.origin`), or null for a device without a relay. */
	baseUrl: string | null;
	/** A valid session token (RelaySession.token). */
	token: (() => Promise<string>) | null;
	/** Where the advertised limits are remembered for offline use. */
	storage?: KeyStore | null;
	/** Where `online` events arrive (default: window). */
	network?: EventTarget | null;
	onError: (error: unknown, what: string) => void;
	/** The relay transfers (blob-transfer.ts); tests pass their own. */
	transfer?: Partial<Transfer>;
}

/** How bytes reach and leave the relay. */
export interface Transfer {
	upload: typeof uploadBlob;
	download: typeof downloadBlob;
	limits: typeof fetchBlobLimits;
}

/**
 * Files and voice recordings on this device and on the relay (docs/ARCHITECTURE.md, "Files and
 * voice messages"). A file's bytes are stored in Dexie first, queued for upload in Dexie, then
 * the message that references it is posted at once: the sender sees it immediately (with an
 * upload progress bar), everyone else sees the attachment as pending until the relay has the
 * bytes. The queue is pumped on start, on `online` and after each send, and survives reloads.
 *
 * @example
 * const files = new Files({ db, baseUrl: location.origin, token: () => relay.token(), onError });
 * const staged = await files.stage(file);
 * await files.post(conversationId, [staged], (attachments) => conversation.post('', { file_attachments: attachments }));
 */
export class Files {
	limits = $state.raw<BlobLimits>({
		maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
		uploadQuotaBytes: Number.POSITIVE_INFINITY,
		usedBytes: null
	});
	readonly #uploads = new SvelteMap<string, UploadStatus>();
	// Not reactive on purpose: each handle is itself reactive, and the maps only cache them.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #media = new Map<string, MediaHandle>();
	readonly #options: FilesOptions;
	readonly #transfer: Transfer;
	#pumping: Promise<void> | null = null;
	#again = false;
	#retryTimer: ReturnType<typeof setTimeout> | null = null;
	#retryMs = 1000;
	readonly #network: EventTarget | null;
	readonly #onOnline = () => {
		this.#retryMs = 1000;
		void this.refreshLimits();
		void this.pump();
		for (const h of this.#media.values()) if (h.status === 'waiting') void this.#load(h);
	};

	constructor(options: FilesOptions) {
		this.#options = options;
		this.#transfer = {
			upload: uploadBlob,
			download: downloadBlob,
			limits: fetchBlobLimits,
			...options.transfer
		};
		this.#network = options.network ?? (typeof window === 'undefined' ? null : window);
		const cached = options.storage?.getItem(LIMITS_KEY);
		if (cached) {
			try {
				const parsed = JSON.parse(cached) as { maxUploadBytes?: unknown };
				if (typeof parsed.maxUploadBytes === 'number')
					this.limits = { ...this.limits, maxUploadBytes: parsed.maxUploadBytes };
			} catch {
				// a damaged cache: the default until the relay answers
			}
		}
	}

	/** Loads the queue and the relay's limits, and starts uploading what waits. */
	start(): void {
		this.#network?.addEventListener('online', this.#onOnline);
		void this.refreshLimits();
		void this.pump();
	}

	destroy(): void {
		this.#network?.removeEventListener('online', this.#onOnline);
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
	}

	async refreshLimits(): Promise<void> {
		const { baseUrl, token } = this.#options;
		if (!baseUrl || !token) return;
		try {
			this.limits = await this.#transfer.limits(baseUrl, await token());
			this.#options.storage?.setItem(
				LIMITS_KEY,
				JSON.stringify({ maxUploadBytes: this.limits.maxUploadBytes })
			);
		} catch {
			// Offline: the remembered (or default) limits stand.
		}
	}

	/** The upload of a blob into a conversation, while one is queued. */
	upload(sha256: string, conversationId: string): UploadStatus | null {
		return this.#uploads.get(`${sha256}:${conversationId}`) ?? null;
	}

	/** Refuses a file over the relay's limit, before any byte is read or sent. */
	checkSize(name: string, size: number): void {
		const limit = Math.min(this.limits.maxUploadBytes, Limits.attachmentMaxBytes);
		if (size > limit)
			throw new FileTooLargeError(name, size, limit, formatBytes(size), formatBytes(limit));
	}

	/**
	 * Stores a picked, dropped or pasted file on the device and makes its thumbnail. Throws
	 * {@link FileTooLargeError} for a file over the relay's limit.
	 */
	async stage(file: Blob, name = file instanceof File ? file.name : 'file'): Promise<StagedFile> {
		const fileName = (name || 'file').slice(0, Limits.fileNameMaxChars);
		this.checkSize(fileName, file.size);
		const type = (file.type || 'application/octet-stream').slice(0, 255);
		const sha256 = await putBlob(this.#options.db, file, { type });
		const kind = mediaKind(type);
		return {
			key: newId(),
			name: fileName,
			type,
			size: file.size,
			sha256,
			kind,
			preview: await makeThumbnail(file, kind)
		};
	}

	/**
	 * Posts a message through `post` with the staged files' attachment records, then queues the
	 * files for upload (their bytes are already on the device). Posting comes first and is
	 * synchronous, so a refused message (too long, say) throws here and nothing is queued; the
	 * queue write follows at once (its failure is reported through `onError`).
	 */
	post<T>(
		conversationId: string,
		staged: readonly StagedFile[],
		post: (attachments: FileAttachment[]) => T
	): T {
		const attachments: FileAttachment[] = staged.map((s) => ({
			id: newId(),
			name: s.name,
			type: s.type,
			size: s.size,
			sha256: s.sha256,
			url: blobUrl(s.sha256)
		}));
		const result = post(attachments);
		this.#queue(conversationId, staged)
			.then(() => this.pump())
			.catch((e: unknown) => this.#options.onError(e, 'Queueing your files for upload'));
		return result;
	}

	/** Stores a voice recording on the device, posts it through `post` with its `audio_url`, and queues it. */
	async postVoice<T>(
		conversationId: string,
		recording: Blob,
		post: (audioUrl: string) => T
	): Promise<T> {
		this.checkSize('Voice message', recording.size);
		const type = recording.type || 'audio/webm';
		const sha256 = await putBlob(this.#options.db, recording, { type });
		const result = post(blobUrl(sha256));
		await this.#queue(conversationId, [{ name: 'Voice message', size: recording.size, sha256 }]);
		void this.pump();
		return result;
	}

	async #queue(
		conversationId: string,
		items: ReadonlyArray<{ name: string; size: number; sha256: string }>
	): Promise<void> {
		await queueUploads(
			this.#options.db,
			items.map((i) => ({
				sha256: i.sha256,
				conversation_id: conversationId,
				name: i.name,
				size: i.size
			}))
		);
		for (const i of items)
			this.#uploads.set(`${i.sha256}:${conversationId}`, {
				state: 'queued',
				loaded: 0,
				total: i.size,
				error: null
			});
	}

	/** Uploads everything queued, one file at a time; safe to call any time. */
	pump(): Promise<void> {
		if (this.#pumping) {
			this.#again = true;
			return this.#pumping;
		}
		this.#pumping = (async () => {
			do {
				this.#again = false;
				await this.#pumpOnce();
			} while (this.#again);
		})()
			.catch((e: unknown) => this.#options.onError(e, 'Uploading a file'))
			.finally(() => {
				this.#pumping = null;
			});
		return this.#pumping;
	}

	async #pumpOnce(): Promise<void> {
		const { db, baseUrl, token } = this.#options;
		const rows = await queuedUploads(db);
		for (const row of rows) {
			const key = `${row.sha256}:${row.conversation_id}`;
			if (row.failed) {
				this.#uploads.set(key, { state: 'failed', loaded: 0, total: row.size, error: row.failed });
				continue;
			}
			if (!this.#uploads.has(key))
				this.#uploads.set(key, { state: 'queued', loaded: 0, total: row.size, error: null });
		}
		if (!baseUrl || !token) return;
		for (const row of rows) {
			if (row.failed) continue;
			const key = `${row.sha256}:${row.conversation_id}`;
			const stored = await getBlob(db, row.sha256);
			if (!stored) {
				// The bytes are gone from this device (site data cleared): nothing to upload.
				await removeUpload(db, row.sha256, row.conversation_id);
				this.#uploads.delete(key);
				continue;
			}
			try {
				this.#uploads.set(key, { state: 'uploading', loaded: 0, total: row.size, error: null });
				await this.#transfer.upload({
					baseUrl,
					token: await token(),
					sha256: row.sha256,
					conversationId: row.conversation_id,
					data: stored.data,
					onProgress: (loaded, total) =>
						this.#uploads.set(key, { state: 'uploading', loaded, total, error: null })
				});
				await removeUpload(db, row.sha256, row.conversation_id);
				this.#uploads.delete(key);
				this.#retryMs = 1000;
			} catch (e) {
				const retryable = !(e instanceof BlobTransferError) || e.retryable;
				if (retryable) {
					// Offline, or the relay lacks the conversation yet: the whole queue waits.
					await noteUploadAttempt(db, row.sha256, row.conversation_id, null);
					this.#uploads.set(key, { state: 'queued', loaded: 0, total: row.size, error: null });
					this.#scheduleRetry();
					return;
				}
				const reason = e instanceof Error ? e.message : String(e);
				await noteUploadAttempt(db, row.sha256, row.conversation_id, reason);
				this.#uploads.set(key, { state: 'failed', loaded: 0, total: row.size, error: reason });
				this.#options.onError(e, `Uploading "${row.name}"`);
			}
		}
	}

	#scheduleRetry(): void {
		if (this.#retryTimer) return;
		const wait = this.#retryMs;
		this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			void this.pump();
		}, wait);
	}

	/**
	 * The bytes of a blob referenced in a conversation: from this device, else downloaded from
	 * the relay (and kept on the device, so it opens offline next time). Starts loading on the
	 * first call; the handle updates as it goes.
	 */
	media(sha256: string, conversationId: string, type: string): MediaHandle {
		let handle = this.#media.get(sha256);
		if (!handle) {
			handle = new MediaHandle(sha256, type);
			this.#media.set(sha256, handle);
			const h = handle;
			queueMicrotask(() => void this.#load(h, conversationId));
		}
		return handle;
	}

	/** Tries a file that is not here yet again now (the person asked). */
	retry(handle: MediaHandle): void {
		if (handle.status === 'waiting' || handle.status === 'error') {
			handle.status = 'loading';
			void this.#load(handle);
		}
	}

	// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache, never rendered
	readonly #conversationOf = new Map<string, string>();

	async #load(handle: MediaHandle, conversationId?: string, attempt = 0): Promise<void> {
		if (conversationId) this.#conversationOf.set(handle.sha256, conversationId);
		const conv = this.#conversationOf.get(handle.sha256);
		const { db, baseUrl, token } = this.#options;
		try {
			let row = await getBlob(db, handle.sha256);
			if (!row) {
				if (!baseUrl || !token || !conv) {
					handle.status = 'waiting';
					return;
				}
				const data = await this.#transfer.download({
					baseUrl,
					token: await token(),
					sha256: handle.sha256,
					conversationId: conv
				});
				await putBlob(db, data, { type: handle.type, expectedSha256: handle.sha256 });
				row = await getBlob(db, handle.sha256);
				if (!row) throw new Error('The file could not be kept on this device.');
			}
			const kind = mediaKind(handle.type);
			const bytes = new Blob([row.data], { type: safeType(handle.type) });
			handle.url = URL.createObjectURL(bytes);
			handle.status = 'ready';
			handle.error = null;
			if (kind === 'image' || kind === 'video') handle.thumb = await makeThumbnail(bytes, kind);
		} catch (e) {
			const retryable =
				(e instanceof BlobTransferError && e.retryable) ||
				e instanceof TypeError ||
				(e instanceof Error && e.name === 'RelayAuthError');
			handle.error = e instanceof Error ? e.message : String(e);
			handle.waitingFor =
				e instanceof BlobTransferError && e.code === 'not_uploaded' ? 'sender' : 'relay';
			handle.status = retryable ? 'waiting' : 'error';
			if (retryable && attempt < 40) {
				// The sender's upload is usually seconds behind its message: ask again often for the
				// first half minute, then back off (a sender who went offline may take hours).
				const wait =
					handle.waitingFor === 'sender' && attempt < 20
						? 1_500
						: Math.min(1000 * 2 ** attempt, MAX_RETRY_MS);
				setTimeout(() => {
					if (handle.status === 'waiting') void this.#load(handle, undefined, attempt + 1);
				}, wait);
			}
		}
	}
}

const KEY = Symbol('files');

export function setFiles(files: Files): void {
	setContext(KEY, files);
}

export function getFiles(): Files | null {
	return getContext<Files | undefined>(KEY) ?? null;
}
