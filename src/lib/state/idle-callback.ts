/**
 * `requestIdleCallback` where the browser has it, and a timeout standing in where it does not
 * (Safari; Node, where the unit tests run). The one place the app asks for idle time: the
 * components' idle queue and after-paint work, and the state's background walks.
 *
 * @example const handle = requestIdle((deadline) => work(deadline), { timeout: 2_000 });
 */
export interface IdleDeadline {
	timeRemaining(): number;
}

export interface IdleOptions {
	/** Run by then at the latest (ms), idle or not. */
	timeout?: number;
	/** Without requestIdleCallback: how long to wait (ms) … */
	fallbackDelay?: number;
	/** … and how much time (ms) the callback is told it has. */
	fallbackBudget?: number;
}

export function requestIdle(
	fn: (deadline: IdleDeadline) => void,
	options: IdleOptions = {}
): number {
	if (typeof requestIdleCallback === 'function')
		return requestIdleCallback(
			fn,
			options.timeout === undefined ? undefined : { timeout: options.timeout }
		);
	const budget = options.fallbackBudget ?? 8;
	return setTimeout(() => {
		const start = performance.now();
		fn({ timeRemaining: () => budget - (performance.now() - start) });
	}, options.fallbackDelay ?? 0) as unknown as number;
}

export function cancelIdle(handle: number): void {
	if (typeof cancelIdleCallback === 'function') cancelIdleCallback(handle);
	else clearTimeout(handle);
}
