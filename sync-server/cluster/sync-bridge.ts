/**
 * Synchronous calls into a worker thread that does asynchronous work (the PostgreSQL client).
 *
 * The relay's storage contract is synchronous (store.ts): a document is read, and a commit
 * completes, before any other event is handled. node-postgres is asynchronous, so the calls
 * the contract needs go to a worker thread over a MessagePort, and the event loop waits on a
 * shared word (`Atomics.wait`) until the worker answers; `receiveMessageOnPort` then takes the
 * answer without an event turn. It is the technique of synckit (used by eslint-plugin-prettier),
 * written out here because the worker may have to load TypeScript through tsx and carries two kinds of
 * call: `call` (the event loop waits, as it waits for SQLite's fsync) and `callAsync` (a
 * promise, for work nothing waits for: compaction, catch-up reads after a Redis outage).
 *
 * A call that takes longer than its timeout throws {@link BridgeTimeoutError}; a late answer to
 * it is recognised by its id and dropped.
 */
import {
	MessageChannel,
	receiveMessageOnPort,
	Worker,
	type MessagePort
} from 'node:worker_threads';

export class BridgeTimeoutError extends Error {
	readonly code = 'BRIDGE_TIMEOUT';
}

/** An error thrown in the worker, with its code (e.g. PostgreSQL's SQLSTATE) kept. */
export class WorkerError extends Error {
	constructor(
		message: string,
		readonly code: string | undefined
	) {
		super(message);
	}
}

export interface BridgeRequest {
	id: number;
	method: string;
	args: unknown[];
}

export type BridgeResponse =
	| { id: number; ok: true; value: unknown }
	| { id: number; ok: false; message: string; code?: string };

export class SyncBridge {
	readonly #worker: Worker;
	readonly #syncPort: MessagePort;
	readonly #asyncPort: MessagePort;
	/** 0 while a synchronous call waits; the worker stores 1 and notifies when it answered. */
	readonly #signal = new Int32Array(new SharedArrayBuffer(4));
	readonly #waiting = new Map<
		number,
		{ resolve: (v: unknown) => void; reject: (e: Error) => void }
	>();
	#nextId = 1;
	#closed = false;

	/**
	 * @param entry the worker module (a file URL); it calls `serveBridge` (below).
	 * @param workerData handed to the worker as `workerData.data`.
	 */
	constructor(entry: URL, workerData: unknown) {
		const sync = new MessageChannel();
		const async = new MessageChannel();
		this.#syncPort = sync.port1;
		this.#asyncPort = async.port1;
		// From the bundle (`npm start`, scripts/build-relay.mjs) the entry is JavaScript. Under
		// `node --import tsx` (the tests) it is TypeScript, and a worker does not inherit tsx's
		// loader hooks: the worker registers them itself before importing the module.
		const ts = entry.pathname.endsWith('.ts');
		const boot = ts
			? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`
			: entry;
		this.#worker = new Worker(boot, {
			eval: ts,
			workerData: { data: workerData, signal: this.#signal, sync: sync.port2, async: async.port2 },
			transferList: [sync.port2, async.port2]
		});
		this.#worker.unref();
		this.#asyncPort.on('message', (m: BridgeResponse) => {
			const w = this.#waiting.get(m.id);
			if (!w) return;
			this.#waiting.delete(m.id);
			if (m.ok) w.resolve(m.value);
			else w.reject(new WorkerError(m.message, m.code));
		});
		this.#asyncPort.unref();
		this.#worker.on('error', (err) => this.#failAll(err));
		this.#worker.on('exit', () => this.#failAll(new Error('the storage worker stopped')));
	}

	#failAll(err: Error): void {
		this.#closed = true;
		for (const w of this.#waiting.values()) w.reject(err);
		this.#waiting.clear();
	}

	/** Runs `method` in the worker and waits for its answer, blocking the event loop. */
	call<T>(method: string, args: unknown[], timeoutMs: number): T {
		if (this.#closed) throw new WorkerError('the storage worker stopped', 'WORKER_STOPPED');
		const id = this.#nextId++;
		Atomics.store(this.#signal, 0, 0);
		this.#syncPort.postMessage({ id, method, args } satisfies BridgeRequest);
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const received = receiveMessageOnPort(this.#syncPort);
			if (received) {
				const m = received.message as BridgeResponse;
				if (m.id !== id) continue; // the late answer to a call that timed out
				if (m.ok) return m.value as T;
				throw new WorkerError(m.message, m.code);
			}
			const left = deadline - Date.now();
			if (left <= 0) throw new BridgeTimeoutError(`${method} took longer than ${timeoutMs} ms`);
			Atomics.wait(this.#signal, 0, 0, left);
			// Reset before looking: an answer that lands after this is signalled again.
			Atomics.store(this.#signal, 0, 0);
		}
	}

	/**
	 * Runs `method` in the worker without waiting: the event loop goes on. With `timeoutMs`, the
	 * promise rejects with {@link BridgeTimeoutError} when no answer came in time.
	 */
	callAsync<T>(method: string, args: unknown[], timeoutMs?: number): Promise<T> {
		if (this.#closed)
			return Promise.reject(new WorkerError('the storage worker stopped', 'WORKER_STOPPED'));
		const id = this.#nextId++;
		return new Promise<T>((resolve, reject) => {
			if (timeoutMs === undefined) {
				this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
			} else {
				const timer = setTimeout(() => {
					if (!this.#waiting.delete(id)) return;
					reject(new BridgeTimeoutError(`${method} took longer than ${timeoutMs} ms`));
				}, timeoutMs);
				this.#waiting.set(id, {
					resolve: (v) => {
						clearTimeout(timer);
						resolve(v as T);
					},
					reject: (e) => {
						clearTimeout(timer);
						reject(e);
					}
				});
			}
			this.#asyncPort.postMessage({ id, method, args } satisfies BridgeRequest);
		});
	}

	close(): Promise<number> {
		this.#closed = true;
		this.#syncPort.close();
		this.#asyncPort.close();
		return this.#worker.terminate();
	}
}

/**
 * The worker's side: answers requests with `handlers`. Synchronous calls are answered one at a
 * time, in order (the caller waits for each); asynchronous ones run concurrently.
 */
export function serveBridge(
	workerData: { signal: Int32Array; sync: MessagePort; async: MessagePort },
	handlers: Record<string, (...args: never[]) => unknown>
): void {
	const run = async (req: BridgeRequest): Promise<BridgeResponse> => {
		const handler = handlers[req.method];
		try {
			if (!handler) throw new Error(`unknown storage call ${req.method}`);
			return { id: req.id, ok: true, value: await handler(...(req.args as never[])) };
		} catch (err) {
			const e = err as { message?: string; code?: unknown };
			return {
				id: req.id,
				ok: false,
				message: String(e?.message ?? err),
				...(typeof e?.code === 'string' ? { code: e.code } : {})
			};
		}
	};
	let chain = Promise.resolve();
	workerData.sync.on('message', (req: BridgeRequest) => {
		chain = chain.then(async () => {
			const res = await run(req);
			workerData.sync.postMessage(res);
			Atomics.store(workerData.signal, 0, 1);
			Atomics.notify(workerData.signal, 0);
		});
	});
	workerData.async.on('message', (req: BridgeRequest) => {
		void run(req).then((res) => workerData.async.postMessage(res));
	});
}
