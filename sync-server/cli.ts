/**
 * Operator commands, on the relay's DATA_DIR, or its PostgreSQL database when DATABASE_URL is
 * set (they may run while the relay runs):
 *
 *   npm run token -- <user-id> [--ttl <seconds>]   a session token for a user (bots, scripts);
 *                                                  the user joins the workspace if needed
 *   npm run invite -- [--uses <n>]                 an invite link for new people
 *
 * The token or link is the last line printed.
 */
import { Auth, loadSecret } from './auth.ts';
import { PgStore } from './cluster/pg-store.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { Storage } from './storage.ts';
import type { Store } from './store.ts';
import { Patterns } from '../src/lib/model/index.ts';

function option(args: string[], name: string): number | undefined {
	const i = args.indexOf(name);
	if (i < 0) return undefined;
	const value = Number(args[i + 1]);
	if (!Number.isInteger(value) || value < 1)
		throw new Error(`${name} needs a positive whole number.`);
	return value;
}

function main(argv: string[]): void {
	const [command, ...args] = argv;
	const config = loadConfig();
	// With DATABASE_URL, the relays' database and their shared secret (README, "Running several relays").
	const pg = config.databaseUrl ? new PgStore(config.databaseUrl, createLogger('warn')) : null;
	const storage: Store =
		pg ??
		new Storage(config.dataDir, {
			synchronous: config.sqliteSynchronous,
			maxPages: 0,
			writer: false
		});
	const auth = new Auth(pg ? pg.secret() : loadSecret(config.dataDir), storage, config);
	try {
		if (command === 'token') {
			const user = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
			if (!user || !Patterns.userId.test(user)) {
				throw new Error(
					'Usage: npm run token -- <user-id> [--ttl <seconds>] (a user id is base64url, 1–64 characters).'
				);
			}
			const ttl = option(args, '--ttl') ?? config.tokenTtlS;
			storage.addMember(user, '', 'operator');
			const expires = new Date(Date.now() + ttl * 1000).toISOString();
			process.stderr.write(`Token for ${user}, valid until ${expires}:\n`);
			process.stdout.write(`${auth.issue(user, ttl)}\n`);
		} else if (command === 'invite') {
			const { code, expires_at } = auth.createInvite('operator', option(args, '--uses') ?? 1);
			const base = config.publicUrl || `http://${config.host}:${config.port}`;
			process.stderr.write(
				`Invite code ${code}, valid until ${new Date(expires_at).toISOString()}:\n`
			);
			process.stdout.write(`${base}/?invite=${code}\n`);
		} else {
			throw new Error(
				'Usage: cli.ts token <user-id> [--ttl <seconds>] | cli.ts invite [--uses <n>]'
			);
		}
	} finally {
		storage.close();
	}
}

try {
	main(process.argv.slice(2));
} catch (err) {
	process.stderr.write(`${(err as Error).message}\n`);
	process.exit(1);
}
