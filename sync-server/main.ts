/**
 * The Kith relay: one process serving the built app, the sync endpoint
 * `ws://HOST:PORT/sync/<doc-name>`, auth, health and metrics (README, "Running the relay").
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Auth, loadSecret } from './auth.ts';
import { BlobStore } from './blobs.ts';
import { ensureBuilt } from './build.ts';
import { loadConfig } from './config.ts';
import { Connections } from './connection.ts';
import { Devices } from './devices.ts';
import { Docs } from './docs.ts';
import { createHttpServer } from './http.ts';
import { createLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { Storage } from './storage.ts';

const config = loadConfig();
const log = createLogger(config.logLevel);
if (config.serveApp) ensureBuilt(config.buildDir, log);
const metrics = createMetrics();
const storage = new Storage(config.dataDir, {
	synchronous: config.sqliteSynchronous,
	maxPages: config.sqliteMaxPages
});
const auth = new Auth(loadSecret(config.dataDir), storage, config);
const devices = new Devices(storage.db, config);
auth.devices = devices;
const docs = new Docs(config, storage, log, metrics);
const connections = new Connections(config, docs, auth, log, metrics);
let stopping = false;
const { server, wss } = createHttpServer({
	config,
	auth,
	connections,
	metrics,
	log,
	devices,
	healthy: () => !stopping,
	blobs: { store: new BlobStore(config.dataDir, storage.db, config, log), docs }
});

const lag = monitorEventLoopDelay({ resolution: 20 });
lag.enable();
const heartbeat = setInterval(() => {
	connections.heartbeat([...docs.docs.values()].flatMap((e) => [...e.conns]));
	if (lag.max > 1e9) log.warn({ maxMs: Math.round(lag.max / 1e6) }, 'event loop blocked');
	lag.reset();
}, 30_000);
heartbeat.unref();

server.listen(config.port, config.host, () => {
	const addr = server.address();
	const port = typeof addr === 'object' && addr ? addr.port : config.port;
	const host = config.host.includes(':') ? `[${config.host}]` : config.host;
	const url = `http://${host}:${port}`;
	log.info(
		{ port, host: config.host, url, dataDir: config.dataDir, joinMode: config.joinMode },
		'listening'
	);
	// The one line a person reads: where to open the app.
	process.stderr.write(`\nKith relay ready: open ${url}\n\n`);
});

function shutdown(signal: string): void {
	if (stopping) return;
	stopping = true;
	log.info({ signal }, 'shutting down: storing everything and closing');
	clearInterval(heartbeat);
	server.close();
	const stored = docs.shutdown();
	for (const ws of wss.clients) ws.terminate();
	storage.close();
	log.info(
		{ stored },
		stored ? 'stopped cleanly' : 'stopped with updates that could not be stored'
	);
	log.flush();
	process.exit(stored ? 0 : 1);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('uncaughtException', (err) => {
	// Input never reaches here (every socket has an error handler); this is a bug: log it and
	// stop cleanly rather than run on in an unknown state.
	log.fatal({ err }, 'uncaught exception');
	shutdown('uncaughtException');
});
