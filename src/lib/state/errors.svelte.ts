import { ValidationError } from '$lib/model';

/** A failure shown to the person: what failed, why, and what to do about it. */
export interface Notice {
	id: number;
	/** What the person was doing, e.g. "Sending your message". */
	what: string;
	/** Why it failed, in plain words. */
	reason: string;
	/** What to do now. */
	action: string;
}

/** Explains an error in plain words. ValidationError messages are already written for people. */
export function describeError(error: unknown): { reason: string; action: string } {
	if (error instanceof ValidationError) {
		return { reason: error.message, action: 'Change it and try again.' };
	}
	const name = error instanceof Error || error instanceof DOMException ? error.name : '';
	if (name === 'QuotaExceededError') {
		return {
			reason: 'This device has run out of storage space for Kith.',
			action: 'Free some space on the device, then try again.'
		};
	}
	if (name === 'FileTooLargeError' && error instanceof Error) {
		return { reason: error.message, action: 'Nothing was sent. Send a smaller file.' };
	}
	if (name === 'BlobTransferError' && error instanceof Error) {
		return {
			reason: `The relay refused the file: ${error.message}`,
			action: 'The file stays on this device; others cannot open it until it is uploaded.'
		};
	}
	if (name === 'RelayAuthError' || name === 'NetworkError' || error instanceof TypeError) {
		const message = error instanceof Error ? error.message : String(error);
		return {
			reason: `The relay could not be reached (${message}).`,
			action:
				'Your messages stay on this device and go out when the connection is back. Check your network.'
		};
	}
	const message = error instanceof Error ? error.message : String(error);
	return {
		reason: message || 'An unexpected error happened.',
		action: 'Try again; if it keeps happening, reload the page.'
	};
}

/** The one error path of the UI: every failure becomes a notice (rendered by `Notices.svelte`). */
export class ErrorCenter {
	#notices = $state.raw<Notice[]>([]);
	#next = 1;

	get notices(): readonly Notice[] {
		return this.#notices;
	}

	report(error: unknown, what: string): Notice {
		const notice: Notice = { id: this.#next++, what, ...describeError(error) };
		// Same failure twice in a row: keep one notice.
		const rest = this.#notices.filter((n) => !(n.what === what && n.reason === notice.reason));
		this.#notices = [...rest, notice].slice(-4);
		return notice;
	}

	dismiss(id: number): void {
		this.#notices = this.#notices.filter((n) => n.id !== id);
	}
}

export const errors = new ErrorCenter();

/**
 * Whether an `error` event on the window is the browser saying that a ResizeObserver's
 * notifications wait for the next frame ("ResizeObserver loop completed with undelivered
 * notifications"; "ResizeObserver loop limit exceeded" in older browsers). The spec reports it as
 * an error event with no error object, but nothing failed: the observer gets them a frame later.
 * The message log measures its rows with one, so scrolling fast through history raises it, and
 * shown as a notice it told the person that "An action failed" while they scrolled.
 */
export function isBenignWindowError(e: { message: string; error?: unknown }): boolean {
	return (e.error === null || e.error === undefined) && e.message.startsWith('ResizeObserver loop');
}

/**
 * Shows the person that `what` failed and what to do. The only place the UI reports errors.
 *
 * @example handleError(e, 'Sending your message')
 */
export function handleError(error: unknown, what: string): void {
	// Tagged, so that a test (tests/e2e/fixtures.ts) tells a notice from the browser's own errors.
	console.error(`[notice] ${what} failed:`, error);
	errors.report(error, what);
}

/** Runs `fn`; a throw goes through {@link handleError}. Returns whether it succeeded. */
export function attempt(what: string, fn: () => void): boolean {
	try {
		fn();
		return true;
	} catch (e) {
		handleError(e, what);
		return false;
	}
}

/** {@link attempt} for async work: resolves to the result, or undefined after reporting. */
export async function attemptAsync<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
	try {
		return await fn();
	} catch (e) {
		handleError(e, what);
		return undefined;
	}
}
