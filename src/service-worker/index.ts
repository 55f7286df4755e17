/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Kith's service worker: the app shell offline. It precaches this version's build and static
 * files, answers navigations with the cached index.html when the network fails (an SPA: every
 * path is the same page), and never touches the relay's live endpoints or anything but GET.
 * Data never passes through here: conversations live in IndexedDB.
 *
 * A new version installs and then waits; the page offers "Reload to update", which posts
 * SKIP_WAITING (src/lib/components/pwa-update.svelte.ts).
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;

const CACHE = `kith-shell-${version}`;
const SHELL = '/';
const PRECACHE = [SHELL, ...build, ...files];
const PRECACHED = new Set(PRECACHE);

/** Paths the service worker leaves to the network, always. */
const LIVE = ['/sync', '/auth', '/devices', '/blobs', '/healthz', '/metrics'];

function isLive(pathname: string): boolean {
	return LIVE.some((p) => pathname === p || pathname.startsWith(`${p}/`));
}

sw.addEventListener('install', (event) => {
	event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const key of await caches.keys()) {
				if (key !== CACHE && key.startsWith('kith-shell-')) await caches.delete(key);
			}
			await sw.clients.claim();
		})()
	);
});

sw.addEventListener('message', (event) => {
	if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

async function fromCache(request: Request | string): Promise<Response | undefined> {
	const cache = await caches.open(CACHE);
	return cache.match(request);
}

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin || isLive(url.pathname)) return;

	if (request.mode === 'navigate') {
		// The network first, so a reload online sees a new version; the cached shell when the
		// network (or the relay) is down. The shell is never replaced by a fetched one: it must
		// match this version's precached scripts.
		event.respondWith(
			fetch(request).catch(async () => (await fromCache(SHELL)) ?? Response.error())
		);
		return;
	}

	if (PRECACHED.has(url.pathname)) {
		// Build files are content-hashed and static files belong to this version: cache first.
		event.respondWith((async () => (await fromCache(url.pathname)) ?? fetch(request))());
		return;
	}

	// Anything else: the network, and what the cache happens to hold if it fails.
	event.respondWith(
		fetch(request).catch(async () => (await fromCache(request)) ?? Response.error())
	);
});

// A click on a message notification: focus a window of Kith and open the conversation.
sw.addEventListener('notificationclick', (event) => {
	event.notification.close();
	const data = event.notification.data as { url?: unknown } | null;
	const path = typeof data?.url === 'string' && data.url.startsWith('/') ? data.url : '/';
	const target = new URL(path, sw.location.origin).href;
	event.waitUntil(
		(async () => {
			const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
			const open = windows[0];
			if (open) {
				await open.focus();
				await open.navigate(target).catch(() => open.postMessage({ type: 'NAVIGATE', url: path }));
				return;
			}
			await sw.clients.openWindow(target);
		})()
	);
});
