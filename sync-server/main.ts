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
import type { Store } from './store.ts';

const config = loadConfig();
const log = createLogger(config.logLevel);
if (config.serveApp) ensureBuilt(config.buildDir, log);
const metrics = createMetrics();
// DATABASE_URL: PostgreSQL instead of the embedded SQLite store, and the token secret from it
// (every relay of the database accepts every relay's tokens). README, "Running several relays".
// The cluster modules (pg, ioredis, a worker thread) are loaded only when configured: they are
// about half of a plain relay's start-up time.
const pg = config.databaseUrl
	? new (await import('./cluster/pg-store.ts')).PgStore(config.databaseUrl, log, {
			minCompactRows: Math.max(2, Math.floor(config.compactAfterUpdates / 2))
		})
	: null;
const sqlite = pg
	? null
	: new Storage(config.dataDir, {
			synchronous: config.sqliteSynchronous,
			maxPages: config.sqliteMaxPages,
			writer: config.sqliteWriterThread
		});
const storage: Store = pg ?? sqlite!;
const auth = pg
	? new Auth(pg.secret(), storage, config, pg.challenges())
	: new Auth(loadSecret(config.dataDir), storage, config);
// Devices keep their tables beside the workspace's: in SQLite, or in PostgreSQL through the
// part of better-sqlite3's API that devices.ts uses (cluster/pg-sql.ts).
const devices = new Devices(sqlite ? sqlite.db : pg!.sql(), config);
auth.devices = devices;
const docs = new Docs(config, storage, log, metrics);
const cluster =
	pg && config.redisUrl
		? new (await import('./cluster/cluster.ts')).Cluster(config, docs, pg, log, metrics.registry)
		: null;
docs.cluster = cluster;
cluster?.watchRevocations(devices);
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
	blobs: { store: new BlobStore(config.dataDir, sqlite ? sqlite.db : pg!.sql(), config, log), docs }
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
		{
			port,
			host: config.host,
			url,
			dataDir: config.dataDir,
			joinMode: config.joinMode,
			storage: pg ? 'postgresql' : 'sqlite',
			cluster: cluster?.id ?? null
		},
		'listening'
	);
	// The one line a person reads: where to open the app.
	process.stderr.write(`\nKith relay ready: open ${url}\n\n`);
});

async function shutdown(signal: string): Promise<void> {
	if (stopping) return;
	stopping = true;
	log.info({ signal }, 'shutting down: storing everything and closing');
	clearInterval(heartbeat);
	server.close();
	// Waits for the commit in flight and stores what is queued (the writer thread's commits).
	const stored = await docs.shutdown().catch((err: unknown) => {
		log.error({ err }, 'could not store everything');
		return false;
	});
	for (const ws of wss.clients) ws.terminate();
	void cluster?.close();
	storage.close();
	log.info(
		{ stored },
		stored ? 'stopped cleanly' : 'stopped with updates that could not be stored'
	);
	log.flush();
	process.exit(stored ? 0 : 1);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('uncaughtException', (err) => {
	// Input never reaches here (every socket has an error handler); this is a bug: log it and
	// stop cleanly rather than run on in an unknown state.
	log.fatal({ err }, 'uncaught exception');
	void shutdown('uncaughtException');
});
