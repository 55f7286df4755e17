/**
 * The PostgreSQL schema, as numbered migrations. Each runs once, in its own transaction, and
 * is recorded in `kith_migrations`; relays starting together take an advisory lock first, so
 * one of them migrates and the others find the work done. Never edit a migration that has
 * shipped: add the next number.
 */
export interface Migration {
	version: number;
	name: string;
	sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		name: 'documents, membership, invites, client owners, secrets',
		sql: `
			CREATE TABLE kith_updates (
				id bigserial PRIMARY KEY,
				doc text NOT NULL,
				data bytea NOT NULL,
				created_at timestamptz NOT NULL DEFAULT now()
			);
			CREATE INDEX kith_updates_doc ON kith_updates (doc, id);
			CREATE TABLE kith_snapshots (
				doc text PRIMARY KEY,
				data bytea NOT NULL,
				updated_at timestamptz NOT NULL DEFAULT now()
			);
			CREATE TABLE kith_workspace_members (
				user_id text PRIMARY KEY,
				public_key text NOT NULL,
				joined_at timestamptz NOT NULL DEFAULT now(),
				via text NOT NULL
			);
			CREATE TABLE kith_invites (
				code text PRIMARY KEY,
				created_by text NOT NULL,
				created_at timestamptz NOT NULL DEFAULT now(),
				expires_at bigint NOT NULL,
				uses_left integer NOT NULL
			);
			CREATE TABLE kith_client_owners (
				doc text NOT NULL,
				client_id bigint NOT NULL,
				user_id text NOT NULL,
				PRIMARY KEY (doc, client_id)
			);
			CREATE TABLE kith_secrets (
				name text PRIMARY KEY,
				value bytea NOT NULL,
				created_at timestamptz NOT NULL DEFAULT now()
			);
		`
	},
	{
		version: 2,
		name: 'open auth challenges, shared by the relays',
		sql: `
			CREATE TABLE kith_challenges (
				challenge text PRIMARY KEY,
				expires_at bigint NOT NULL
			);
			CREATE INDEX kith_challenges_expires ON kith_challenges (expires_at);
		`
	},
	{
		version: 3,
		name: "a person's devices and their one-time links (devices.ts)",
		sql: `
			CREATE TABLE devices (
				user_id text NOT NULL,
				device_id text NOT NULL,
				public_key text NOT NULL,
				name text NOT NULL DEFAULT '',
				created_at bigint NOT NULL,
				last_seen_at bigint,
				pending_until bigint,
				revoked_at bigint,
				PRIMARY KEY (user_id, device_id)
			);
			CREATE TABLE device_links (
				id text PRIMARY KEY,
				user_id text NOT NULL,
				device_id text NOT NULL,
				ciphertext text NOT NULL,
				expires_at bigint NOT NULL
			);
		`
	},
	{
		version: 4,
		name: 'the blob index (blobs.ts; the bytes stay in DATA_DIR/blobs)',
		sql: `
			CREATE TABLE blob_files (
				sha256 text PRIMARY KEY,
				size bigint NOT NULL,
				created_at text NOT NULL
			);
			CREATE TABLE blob_conversations (
				sha256 text NOT NULL,
				conversation_id text NOT NULL,
				user_id text NOT NULL,
				created_at text NOT NULL,
				PRIMARY KEY (sha256, conversation_id)
			);
			CREATE TABLE blob_uploads (
				user_id text NOT NULL,
				sha256 text NOT NULL,
				size bigint NOT NULL,
				PRIMARY KEY (user_id, sha256)
			);
		`
	}
];

/** The first key of every advisory lock Kith takes ('KITH'); the second names what is locked. */
export const LOCK_NAMESPACE = 0x4b495448;
/** The second key of the lock held while migrating (documents use hashtext(doc name)). */
export const MIGRATION_LOCK = 0;
