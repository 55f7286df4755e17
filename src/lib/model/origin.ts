/**
 * Transaction origins: every change to a Kith document is made inside one `doc.transact(fn,
 * origin)` with one of these, so that observers can tell their own edits from remote ones
 * (y-websocket's `origin !== this`).
 */
export type ModelOp =
	| 'create-conversation'
	| 'add-member'
	| 'remove-member'
	| 'post'
	| 'reply'
	| 'edit'
	| 'delete'
	| 'react'
	| 'set-profile'
	| 'purge';

export type Origin =
	/** A change made on this device by the person, through a model operation. */
	| { readonly kind: 'local'; readonly op: ModelOp }
	/** Updates that came from the relay or another tab. */
	| { readonly kind: 'remote'; readonly source: string }
	/** Updates read back from the device's own storage. */
	| { readonly kind: 'storage' };

/** The origin of a local operation. */
export function localOrigin(op: ModelOp): Origin {
	return { kind: 'local', op };
}

/** True when a transaction origin is one of the model's local operations. */
export function isLocalOrigin(origin: unknown): origin is Extract<Origin, { kind: 'local' }> {
	return (
		typeof origin === 'object' && origin !== null && (origin as { kind?: unknown }).kind === 'local'
	);
}
