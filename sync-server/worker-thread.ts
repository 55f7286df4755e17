/**
 * Starts a worker thread from a module of the relay, under tsx as from the bundle.
 *
 * From the bundle (`npm start`, scripts/build-relay.mjs) the module is JavaScript beside the
 * main chunk. Under `node --import tsx` (the tests) it is TypeScript, and a worker does not
 * inherit tsx's loader hooks: the worker registers them itself before importing the module.
 *
 * @example
 *   const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.mjs';
 *   const worker = startWorker(new URL(`./sqlite-writer${ext}`, import.meta.url), { workerData });
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(entry: URL, options: Omit<WorkerOptions, 'eval'>): Worker {
	const ts = entry.pathname.endsWith('.ts');
	const boot = ts
		? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`
		: entry;
	return new Worker(boot, { ...options, eval: ts });
}
