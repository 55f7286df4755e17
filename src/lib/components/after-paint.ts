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
		idle = requestIdle(() => {
			idle = null;
			fn();
		}, timeoutMs);
	});
	return () => {
		if (frame !== null) cancelAnimationFrame(frame);
		if (idle !== null) cancelIdle(idle);
		frame = idle = null;
	};
}

// Safari has no requestIdleCallback: a task after the frame stands in.
const requestIdle: (fn: () => void, timeout: number) => number =
	typeof requestIdleCallback === 'function'
		? (fn, timeout) => requestIdleCallback(fn, { timeout })
		: (fn) => setTimeout(fn, 0) as unknown as number;
const cancelIdle: (handle: number) => void =
	typeof cancelIdleCallback === 'function' ? cancelIdleCallback : clearTimeout;
