/**
 * Every setting of the relay, read once from environment variables (README, "Running the
 * relay"). Defaults suit one team on one machine.
 */
import { resolve } from 'node:path';

function int(name: string, fallback: number, min = 0): number {
	const raw = process.env[name];
	if (raw === undefined || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isFinite(value) || value < min) {
		throw new Error(`${name} must be a number ≥ ${min}, not ${JSON.stringify(raw)}.`);
	}
	return Math.floor(value);
}

function str(name: string, fallback: string): string {
	const raw = process.env[name];
	return raw === undefined || raw === '' ? fallback : raw;
}

function bool(name: string, fallback: boolean): boolean {
	const raw = process.env[name];
	if (raw === undefined || raw === '') return fallback;
	return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

const MiB = 1024 * 1024;

export function isLoopback(host: string): boolean {
	return (
		host === 'localhost' ||
		host === '::1' ||
		/^127\.\d+\.\d+\.\d+$/.test(host) ||
		host === '::ffff:127.0.0.1'
	);
}

export function loadConfig() {
	const host = str('HOST', 'localhost');
	const joinMode = str('JOIN_MODE', isLoopback(host) ? 'open' : 'invite');
	if (joinMode !== 'open' && joinMode !== 'invite') {
		throw new Error(`JOIN_MODE must be "open" or "invite", not ${JSON.stringify(joinMode)}.`);
	}
	const synchronous = str('SQLITE_SYNCHRONOUS', 'FULL').toUpperCase();
	if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
		throw new Error('SQLITE_SYNCHRONOUS must be FULL or NORMAL.');
	}
	const databaseUrl = str('DATABASE_URL', '');
	const redisUrl = str('REDIS_URL', '');
	if (redisUrl && !databaseUrl) {
		throw new Error(
			'REDIS_URL needs DATABASE_URL: relays that share live updates share storage too.'
		);
	}
	return {
		port: int('PORT', 8787),
		host,
		dataDir: resolve(str('DATA_DIR', './data')),
		logLevel: str('LOG_LEVEL', 'info'),
		/** Public address for invite links, e.g. https://chat.example.org. */
		publicUrl: str('PUBLIC_URL', ''),
		joinMode: joinMode as 'open' | 'invite',
		/** Serve the built app from build/ (and build it when missing or stale). */
		serveApp: bool('SERVE_APP', true),
		buildDir: resolve(str('BUILD_DIR', './build')),
		/** Trust X-Forwarded-For for the client address (only behind your own reverse proxy). */
		trustProxy: bool('TRUST_PROXY', false),
		tokenTtlS: int('TOKEN_TTL_S', 3600, 1),
		challengeTtlS: int('CHALLENGE_TTL_S', 60, 1),
		inviteTtlS: int('INVITE_TTL_S', 7 * 24 * 3600, 1),
		/** How long a one-time link to a new device stays valid (devices.ts). */
		linkTtlS: int('LINK_TTL_S', 600, 1),
		docIdleMs: int('DOC_IDLE_MS', 30_000),
		/**
		 * A conversation with no write for this long drops its Y.Doc and is held as its stored
		 * bytes (docs.ts, "cold"), if at least COLD_MIN_BYTES; 0 keeps every document live.
		 */
		docHotMs: int('DOC_HOT_MS', 10_000),
		coldMinBytes: int('COLD_MIN_BYTES', 256 * 1024),
		maxDocsInMemory: int('MAX_DOCS_IN_MEMORY', 5_000, 1),
		maxFrameBytes: int('MAX_FRAME_BYTES', 32 * MiB, 1024),
		maxDocBytes: int('MAX_DOC_BYTES', 64 * MiB, 1024),
		maxBufferedBytes: int('MAX_BUFFERED_BYTES', 16 * MiB, 1024),
		connUpdateRate: int('CONN_UPDATE_RATE', 50, 1),
		connUpdateBurst: int('CONN_UPDATE_BURST', 200, 1),
		userUpdateRate: int('USER_UPDATE_RATE', 100, 1),
		userUpdateBurst: int('USER_UPDATE_BURST', 400, 1),
		connAwarenessRate: int('CONN_AWARENESS_RATE', 10, 1),
		connAwarenessBurst: int('CONN_AWARENESS_BURST', 40, 1),
		maxAwarenessBytes: int('MAX_AWARENESS_BYTES', 4096, 64),
		maxAwarenessClients: int('MAX_AWARENESS_CLIENTS', 4, 1),
		maxConnsPerAddress: int('MAX_CONNS_PER_ADDRESS', 256, 1),
		compactAfterUpdates: int('COMPACT_AFTER_UPDATES', 500, 1),
		sqliteSynchronous: synchronous as 'FULL' | 'NORMAL',
		/** Commits on a writer thread (storage.ts); false: on the event loop, as before 2026-11-26. */
		sqliteWriterThread: bool('SQLITE_WRITER_THREAD', true),
		/** Caps the database's size in pages (4 KiB); 0 = no cap. Also how tests fill the disk. */
		sqliteMaxPages: int('SQLITE_MAX_PAGES', 0),
		storageRetryMs: int('STORAGE_RETRY_MS', 1000, 10),
		/** Several relays (README, "Running several relays"): PostgreSQL holds the documents... */
		databaseUrl,
		/** ...and Redis carries live updates and presence between the relays. */
		redisUrl,
		/** Prefix of every Redis channel, so several Kith workspaces can share one Redis. */
		redisPrefix: str('REDIS_PREFIX', 'kith:'),
		/** Largest file upload (attachments, voice messages); advertised at GET /blobs/limits. */
		maxUploadBytes: int('MAX_UPLOAD_BYTES', 25 * MiB, 1),
		/** Bytes of distinct files one user may upload in total. */
		uploadQuotaBytes: int('UPLOAD_QUOTA_BYTES', 1024 * MiB, 0)
	};
}

export type Config = ReturnType<typeof loadConfig>;
