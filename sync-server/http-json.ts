/** JSON in and out of the relay's HTTP endpoints (http.ts, devices-http.ts). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError } from './auth.ts';

const MAX_BODY = 16 * 1024;

export function json(res: ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
	res.end(JSON.stringify(body));
}

/** The request's JSON body (`{}` when empty); AuthError 413/400 when too large or not JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
	let size = 0;
	const chunks: Buffer[] = [];
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > MAX_BODY) throw new AuthError(413, 'too_large', 'Request body too large.');
		chunks.push(chunk);
	}
	if (size === 0) return {};
	try {
		return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
	} catch {
		throw new AuthError(400, 'bad_request', 'The body is not JSON.');
	}
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearer(req: IncomingMessage): string | undefined {
	return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
}
