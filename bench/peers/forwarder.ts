/**
 * The harness's floor: a relay that does nothing. It forwards every binary frame to the other
 * sockets on the same path, and answers a client's sync step 1 with an empty step 2 so that
 * y-websocket clients count as synced. No document, no storage, no checks: whatever a real
 * relay spends beyond this is its own work. Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const EMPTY_STEP2 = Buffer.from([0, 1, 2, 0, 0]);
const rooms = new Map<string, Set<WebSocket>>();
const server = createServer((_req, res) => res.end('forwarder'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });

wss.on('connection', (ws, req) => {
	const path = (req.url ?? '/').split('?')[0]!;
	let room = rooms.get(path);
	if (!room) rooms.set(path, (room = new Set()));
	room.add(ws);
	ws.on('error', () => {});
	ws.on('message', (data: Buffer, isBinary) => {
		if (!isBinary) return;
		if (data[0] === 0 && data[1] === 0) {
			ws.send(EMPTY_STEP2);
			return;
		}
		for (const other of room) if (other !== ws && other.readyState === 1) other.send(data);
	});
	ws.on('close', () => {
		room.delete(ws);
		if (room.size === 0) rooms.delete(path);
	});
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
	const addr = server.address();
	process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
