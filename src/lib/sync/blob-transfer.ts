/**
 * Moving bytes to and from the relay's blob store (docs/PROTOCOL.md, "Blobs"): the limits it
 * advertises, an upload with progress, a download. The session token goes in the
 * `Authorization` header, never in a URL: media elements play the bytes from a `blob:` URL made
 * on the device (src/lib/state/files.svelte.ts), so no token ever needs to be in a link.
 */

export interface BlobLimits {
	/** Largest file the relay accepts (MAX_UPLOAD_BYTES). */
	maxUploadBytes: number;
	/** Total of distinct files one person may upload (UPLOAD_QUOTA_BYTES). */
	uploadQuotaBytes: number;
	/** What this person's uploads take already (null when asked without a token). */
	usedBytes: number | null;
}

/** The relay's default MAX_UPLOAD_BYTES, assumed until the relay answers. */
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

/**
 * A transfer the relay refused or the network broke. `retryable`: trying again later can work
 * (no network, an expired token, a conversation the relay has not received yet, a busy relay).
 */
export class BlobTransferError extends Error {
	override readonly name = 'BlobTransferError';
	constructor(
		readonly status: number,
		readonly code: string,
		message: string
	) {
		super(message);
	}

	get retryable(): boolean {
		return (
			this.status === 0 ||
			this.status === 401 ||
			this.status === 408 ||
			this.status === 429 ||
			this.status >= 500 ||
			this.code === 'unknown_conversation' ||
			this.code === 'not_uploaded'
		);
	}
}

function blobEndpoint(baseUrl: string, sha256: string, conversationId: string): string {
	return `${baseUrl}/blobs/${sha256}?conversation=${encodeURIComponent(conversationId)}`;
}

function refusal(status: number, body: string): BlobTransferError {
	try {
		const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
		if (typeof parsed.error === 'string' && typeof parsed.message === 'string')
			return new BlobTransferError(status, parsed.error, parsed.message);
	} catch {
		// not JSON: a proxy's page, say
	}
	return new BlobTransferError(status, 'http', `The relay answered ${status}.`);
}

/**
 * The relay's upload limits.
 *
 * @example const { maxUploadBytes } = await fetchBlobLimits(location.origin, token);
 */
export async function fetchBlobLimits(
	baseUrl: string,
	token: string | null,
	fetchImpl: typeof fetch = fetch
): Promise<BlobLimits> {
	const res = await fetchImpl(`${baseUrl}/blobs/limits`, {
		headers: token ? { authorization: `Bearer ${token}` } : {}
	});
	const text = await res.text();
	if (!res.ok) throw refusal(res.status, text);
	const body = JSON.parse(text) as Record<string, unknown>;
	const num = (v: unknown, fallback: number) =>
		typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fallback;
	return {
		maxUploadBytes: num(body.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES),
		uploadQuotaBytes: num(body.upload_quota_bytes, Number.POSITIVE_INFINITY),
		usedBytes: typeof body.used_bytes === 'number' ? body.used_bytes : null
	};
}

/**
 * Uploads bytes under their sha256 into a conversation, reporting progress. XMLHttpRequest,
 * because fetch reports no upload progress (streaming request bodies need HTTP/2 and are not
 * progress either).
 *
 * @example await uploadBlob({ baseUrl, token, sha256, conversationId, data: file, onProgress })
 */
export function uploadBlob(options: {
	baseUrl: string;
	token: string;
	sha256: string;
	conversationId: string;
	data: Blob;
	onProgress?: (loaded: number, total: number) => void;
	signal?: AbortSignal;
}): Promise<void> {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('PUT', blobEndpoint(options.baseUrl, options.sha256, options.conversationId));
		xhr.setRequestHeader('authorization', `Bearer ${options.token}`);
		xhr.setRequestHeader('content-type', 'application/octet-stream');
		xhr.upload.onprogress = (e) => {
			if (e.lengthComputable) options.onProgress?.(e.loaded, e.total);
		};
		xhr.onload = () => {
			if (xhr.status >= 200 && xhr.status < 300) resolve();
			else reject(refusal(xhr.status, xhr.responseText));
		};
		xhr.onerror = () =>
			reject(new BlobTransferError(0, 'network', 'The relay could not be reached.'));
		xhr.onabort = () => reject(new BlobTransferError(0, 'aborted', 'The upload was stopped.'));
		options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
		xhr.send(options.data);
	});
}

/**
 * Downloads a blob that a message of the conversation references.
 *
 * @example const bytes = await downloadBlob({ baseUrl, token, sha256, conversationId });
 */
export async function downloadBlob(options: {
	baseUrl: string;
	token: string;
	sha256: string;
	conversationId: string;
	fetch?: typeof fetch;
}): Promise<Blob> {
	const fetchImpl = options.fetch ?? fetch;
	let res: Response;
	try {
		res = await fetchImpl(blobEndpoint(options.baseUrl, options.sha256, options.conversationId), {
			headers: { authorization: `Bearer ${options.token}` }
		});
	} catch {
		throw new BlobTransferError(0, 'network', 'The relay could not be reached.');
	}
	if (!res.ok) throw refusal(res.status, await res.text());
	return res.blob();
}

/** A file over the relay's limit, refused on the device before any byte is sent. */
export class FileTooLargeError extends Error {
	override readonly name = 'FileTooLargeError';
	constructor(
		readonly fileName: string,
		readonly size: number,
		readonly limit: number,
		sizeText: string,
		limitText: string
	) {
		super(`"${fileName}" is ${sizeText}; this relay accepts files up to ${limitText}.`);
	}
}
