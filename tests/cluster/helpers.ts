/**
 * Several real relay processes sharing a fresh PostgreSQL database and a Redis key prefix,
 * behind a real nginx using the README's configuration (deploy/nginx.conf). Everything on
 * loopback, on free ports, torn down by the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import * as Y from 'yjs';
import { conversationTypes, createConversation, workspaceTypes } from '../../src/lib/model';
import {
	connect,
	newDevice,
	startRelay,
	synced,
	until,
	type Device,
	type Relay
} from '../relay/helpers/relay';

export const PG_ADMIN_URL =
	process.env.KITH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.KITH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function freePort(): Promise<number> {
	return new Promise((res, rej) => {
		const srv = createServer();
		srv.once('error', rej);
		srv.listen(0, '127.0.0.1', () => {
			const addr = srv.address();
			const port = typeof addr === 'object' && addr ? addr.port : 0;
			srv.close(() => res(port));
		});
	});
}

export function portOpen(port: number): Promise<boolean> {
	return new Promise((res) => {
		const s = new Socket();
		s.setTimeout(500);
		s.once('connect', () => {
			s.destroy();
			res(true);
		});
		s.once('error', () => res(false));
		s.once('timeout', () => {
			s.destroy();
			res(false);
		});
		s.connect(port, '127.0.0.1');
	});
}

async function pgReachable(): Promise<boolean> {
	const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
	try {
		await c.connect();
		await c.query('SELECT 1');
		return true;
	} catch {
		return false;
	} finally {
		await c.end().catch(() => {});
	}
}

async function redisReachable(): Promise<boolean> {
	const r = new Redis(REDIS_URL, {
		lazyConnect: true,
		maxRetriesPerRequest: 0,
		retryStrategy: () => null
	});
	r.on('error', () => {});
	try {
		await r.connect();
		return (await r.ping()) === 'PONG';
	} catch {
		return false;
	} finally {
		r.disconnect();
	}
}

/**
 * Whether PostgreSQL, Redis and nginx can be had, starting PostgreSQL and Redis with the
 * commands of .ci/run when they are down. The reason when not (the tests then skip, saying so).
 */
export async function clusterUnavailable(): Promise<string | null> {
	if (!existsSync('/usr/sbin/nginx')) return 'nginx is not installed (/usr/sbin/nginx)';
	if (!(await pgReachable()) && existsSync('/etc/postgresql')) {
		spawnSync(
			'sh',
			['-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'],
			{
				timeout: 30_000,
				stdio: 'ignore'
			}
		);
	}
	if (!(await pgReachable())) return `PostgreSQL is not reachable at ${PG_ADMIN_URL}`;
	if (!(await redisReachable()) && !process.env.KITH_TEST_REDIS_URL) {
		spawnSync(
			'redis-server',
			[
				'--daemonize',
				'yes',
				'--bind',
				'127.0.0.1',
				'--port',
				'6379',
				'--save',
				'',
				'--appendonly',
				'no'
			],
			{
				timeout: 10_000,
				stdio: 'ignore'
			}
		);
		await new Promise((r) => setTimeout(r, 300));
	}
	if (!(await redisReachable())) return `Redis is not reachable at ${REDIS_URL}`;
	if (spawnSync('redis-server', ['--version']).status !== 0) return 'redis-server is not installed';
	return null;
}

/** A fresh database, `kith_test_<random>`, dropped by `drop`. */
export async function freshDatabase(): Promise<{
	url: string;
	name: string;
	drop(): Promise<void>;
}> {
	const name = `kith_test_${randomBytes(6).toString('hex')}`;
	const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	await admin.end();
	const url = new URL(PG_ADMIN_URL);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		name,
		async drop() {
			const c = new pg.Client({ connectionString: PG_ADMIN_URL });
			await c.connect();
			await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await c.end();
		}
	};
}

/** A document as PostgreSQL holds it (snapshot and log), typed like the relay types it. */
export async function docFromDatabase(url: string, name: string): Promise<Y.Doc> {
	const c = new pg.Client({ connectionString: url });
	await c.connect();
	try {
		const res = await c.query<{ data: Buffer }>(
			`SELECT data FROM (SELECT 0 AS k, 0::bigint AS id, data FROM kith_snapshots WHERE doc = $1
			 UNION ALL SELECT 1, id, data FROM kith_updates WHERE doc = $1) t ORDER BY k, id`,
			[name]
		);
		const doc = new Y.Doc();
		if (name === 'workspace') workspaceTypes(doc);
		else conversationTypes(doc);
		for (const r of res.rows) Y.applyUpdate(doc, r.data);
		return doc;
	} finally {
		await c.end();
	}
}

export async function query<T extends pg.QueryResultRow>(
	url: string,
	sql: string,
	params: unknown[] = []
): Promise<T[]> {
	const c = new pg.Client({ connectionString: url });
	await c.connect();
	try {
		return (await c.query<T>(sql, params)).rows;
	} finally {
		await c.end();
	}
}

/** A relay process of the cluster on a fixed port (so nginx and a restart find it again). */
export async function clusterRelay(
	port: number,
	env: { DATABASE_URL: string; REDIS_URL: string; REDIS_PREFIX: string } & Record<string, string>,
	/** DATA_DIR (only blobs live there in this mode): shared by relays that share files. */
	dataDir?: string
): Promise<Relay> {
	return startRelay({
		...(dataDir ? { dataDir } : {}),
		env: { PORT: String(port), TRUST_PROXY: '1', LOG_LEVEL: 'info', ...env }
	});
}

/** A private redis-server on a free port: a test may stop and restart it. */
export async function privateRedis() {
	const port = await freePort();
	let proc: ChildProcess | null = null;
	const start = async (): Promise<void> => {
		proc = spawn(
			'redis-server',
			['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			{ stdio: 'ignore' }
		);
		const end = Date.now() + 10_000;
		while (!(await portOpen(port))) {
			if (Date.now() > end) throw new Error('private redis-server did not start');
			await new Promise((r) => setTimeout(r, 50));
		}
	};
	const stop = async (): Promise<void> => {
		const p = proc;
		proc = null;
		if (!p || p.exitCode !== null) return;
		const exited = new Promise((r) => p.once('exit', r));
		p.kill('SIGKILL');
		await exited;
	};
	await start();
	return { url: `redis://127.0.0.1:${port}`, port, start, stop };
}

/**
 * nginx with deploy/nginx.conf (the README's), its upstream `server` lines and its `listen`
 * line replaced by loopback ports, inside a minimal main configuration of its own prefix.
 */
export async function startNginx(relayPorts: number[]) {
	const port = await freePort();
	const prefix = mkdtempSync(join(tmpdir(), 'kith-nginx-'));
	for (const d of ['logs', 'temp']) mkdirSync(join(prefix, d));
	const template = readFileSync(resolve('deploy/nginx.conf'), 'utf8');
	// The upstream's `server` lines become one line per relay; the `listen` line, nginx's port.
	const servers = /^(\s*)server 127\.0\.0\.1:\d+ (.*);\n/gm;
	let replaced = 0;
	const site = template
		.replace(servers, (_m, indent: string, rest: string) =>
			replaced++ > 0
				? ''
				: relayPorts.map((p) => `${indent}server 127.0.0.1:${p} ${rest};\n`).join('')
		)
		.replace(/^(\s*)listen 8080;$/m, `$1listen 127.0.0.1:${port};`);
	if (!site.includes(`listen 127.0.0.1:${port};`) || replaced === 0)
		throw new Error('deploy/nginx.conf no longer has the lines the tests replace');
	writeFileSync(join(prefix, 'kith.conf'), site);
	const temp = (n: string) => `${n}_temp_path ${join(prefix, 'temp', n)};`;
	writeFileSync(
		join(prefix, 'nginx.conf'),
		`worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
	access_log off;
	${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
	include ${join(prefix, 'kith.conf')};
}
`
	);
	const proc = spawn(
		'/usr/sbin/nginx',
		['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
		{
			stdio: ['ignore', 'ignore', 'pipe']
		}
	);
	let stderr = '';
	proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
	const end = Date.now() + 10_000;
	while (!(await portOpen(port))) {
		if (proc.exitCode !== null || Date.now() > end)
			throw new Error(`nginx did not start: ${stderr}`);
		await new Promise((r) => setTimeout(r, 50));
	}
	return {
		port,
		http: `http://127.0.0.1:${port}`,
		ws: `ws://127.0.0.1:${port}/sync`,
		async stop() {
			if (proc.exitCode === null) {
				const exited = new Promise((r) => proc.once('exit', r));
				proc.kill('SIGTERM');
				await exited;
			}
			rmSync(prefix, { recursive: true, force: true });
		}
	};
}

/**
 * A TCP proxy on loopback to `targetPort` that a test can cut (every connection dropped, new
 * ones refused) and restore: a relay's link to PostgreSQL or Redis failing on its own.
 */
export async function tcpProxy(targetPort: number) {
	const port = await freePort();
	const sockets = new Set<Socket>();
	let server: ReturnType<typeof createServer> | null = null;
	const open = () =>
		new Promise<void>((res, rej) => {
			const srv = createServer((client) => {
				const upstream = new Socket();
				upstream.connect(targetPort, '127.0.0.1');
				for (const s of [client, upstream]) {
					sockets.add(s);
					s.on('error', () => {});
					s.on('close', () => {
						client.destroy();
						upstream.destroy();
						sockets.delete(s);
					});
				}
				client.pipe(upstream);
				upstream.pipe(client);
			});
			srv.once('error', rej);
			srv.listen(port, '127.0.0.1', () => res());
			server = srv;
		});
	await open();
	return {
		port,
		async cut() {
			const srv = server;
			server = null;
			for (const s of sockets) s.destroy();
			sockets.clear();
			if (srv) await new Promise((r) => srv.close(() => r(null)));
		},
		restore: open
	};
}

/** Two relay processes of one cluster, a person on each (the failure tests' setup). */
export interface RelayPair {
	r1: Relay;
	r2: Relay;
	alice: Device;
	bob: Device;
}

/** Starts two cluster relays (each with its own environment) and a device on each. */
export async function relayPair(
	env1: Parameters<typeof clusterRelay>[1],
	env2: Parameters<typeof clusterRelay>[1]
): Promise<RelayPair> {
	const r1 = await clusterRelay(await freePort(), env1);
	const r2 = await clusterRelay(await freePort(), env2);
	return { r1, r2, alice: await newDevice(r1), bob: await newDevice(r2) };
}

/**
 * A group of alice and bob, created through relay 1 and joined through relay 2; resolves once
 * relay 2's side has it.
 */
export async function groupAcross(pair: RelayPair, id: string, name: string) {
	const a = connect(pair.r1, `conv:${id}`, pair.alice.token);
	await synced(a.provider);
	createConversation(a.doc, {
		kind: 'group',
		name,
		id,
		created_by: pair.alice.user,
		members: [pair.alice.user, pair.bob.user]
	});
	const b = connect(pair.r2, `conv:${id}`, pair.bob.token);
	await synced(b.provider);
	await until(() => b.doc.getMap('meta').get('id') === id, 2000, 'created on relay 2');
	return { a, b };
}
