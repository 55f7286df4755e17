import { cancelIdle, requestIdle } from '$lib/state/idle-callback';

/**
 * Runs `fn` once the next frame has been produced and the page is idle (or after `timeoutMs`
 * at the latest), for work that must not hold that frame back: the search results past the
 * first screenful are mounted then. Returns a function that cancels it.
 *
 * @example
 * $effect(() => afterPaint(() => (all = true)));
 */
export function afterPaint(fn: () => void, timeoutMs = 100): () => void {
	let idle: number | null = null;
	// An idle callback asked for before the frame could run before it, in what is left of the
	// current idle period: asked for from the frame's own callback, it waits until after it.
	let frame: number | null = requestAnimationFrame(() => {
		frame = null;
		// Safari has no requestIdleCallback: a task after the frame stands in.
		idle = requestIdle(
			() => {
				idle = null;
				fn();
			},
			{ timeout: timeoutMs }
		);
	});
	return () => {
		if (frame !== null) cancelAnimationFrame(frame);
		if (idle !== null) cancelIdle(idle);
		frame = idle = null;
	};
}
