// The client scenarios' probe, added to every page of the bench's browser context by
// `addInitScript` before the app's own code runs. Plain JavaScript read as text (bench/client/
// browser.ts): functions that Playwright serialises from TypeScript run under tsx would carry
// its `__name` helper, which the page does not have.
//
// It measures only from outside the app: a MutationObserver sees a message's article appear,
// a requestAnimationFrame and then a MessageChannel task mark the frame that holds it as
// committed ("painted"); PerformanceObserver lists long tasks; a rAF loop records frames. All
// times are performance.now() (ms since navigation start), the clock of event.timeStamp.
(() => {
	if (window.__bench) return;
	const b = {
		longTasks: [],
		frames: null,
		newest: sessionStorage.getItem('bench:newest'),
		newestSeenAt: null,
		newestPaintedAt: null,
		text: null,
		textSeenAt: null,
		textPaintedAt: null,
		enterAt: null,
		inputAt: null,
		onlineAt: null,
		results: null,
		resultsPaintedAt: null,
		chunks: [],
		indexed: null
	};
	window.__bench = b;

	try {
		new PerformanceObserver((list) => {
			for (const e of list.getEntries())
				b.longTasks.push({ start: e.startTime, duration: e.duration });
		}).observe({ type: 'longtask', buffered: true });
	} catch {
		// no Long Tasks API in this browser
	}

	/** Calls back with the time after the next frame has been produced. */
	/** The pending `b.elapsed` calls, each checked whenever a time is recorded. */
	const waiters = new Set();
	function recorded() {
		for (const w of waiters) w();
	}

	/**
	 * Resolves with `b[end] - b[start]` once both are recorded (or rejects after `timeoutMs`):
	 * one call awaited instead of polling the page from the harness every 20 ms, which took the
	 * main thread in the middle of what is measured.
	 */
	b.elapsed = (end, start, timeoutMs) =>
		new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				waiters.delete(check);
				reject(new Error(`${end} was not recorded within ${timeoutMs} ms`));
			}, timeoutMs);
			const check = () => {
				if (b[end] === null || b[start] === null) return;
				waiters.delete(check);
				clearTimeout(timer);
				resolve(b[end] - b[start]);
			};
			waiters.add(check);
			check();
		});

	function afterPaint(cb) {
		requestAnimationFrame(() => {
			const ch = new MessageChannel();
			ch.port1.onmessage = () => {
				cb(performance.now());
				recorded();
			};
			ch.port2.postMessage(null);
		});
	}

	function findText(text) {
		const articles = document.querySelectorAll('[role="log"] article');
		for (let i = articles.length - 1; i >= 0 && i >= articles.length - 60; i--)
			if (articles[i].textContent.includes(text)) return true;
		return false;
	}

	function check() {
		if (b.newest && b.newestSeenAt === null) {
			const sel = `[data-key="${CSS.escape(b.newest)}"] article`;
			if (document.querySelector(sel)) {
				b.newestSeenAt = performance.now();
				afterPaint((t) => (b.newestPaintedAt = t));
			}
		}
		if (b.text && b.textSeenAt === null && findText(b.text)) {
			b.textSeenAt = performance.now();
			afterPaint((t) => (b.textPaintedAt = t));
		}
		if (b.results && b.resultsPaintedAt === null) {
			const seen = b.results.check();
			if (seen) {
				b.resultsSeenAt = performance.now();
				afterPaint((t) => (b.resultsPaintedAt = t));
			}
		}
	}
	new MutationObserver(check).observe(document, {
		childList: true,
		subtree: true,
		characterData: true
	});

	addEventListener(
		'keydown',
		(e) => {
			if (e.key === 'Enter' && !e.shiftKey) b.enterAt = e.timeStamp;
		},
		true
	);
	addEventListener('input', (e) => (b.inputAt = e.timeStamp), true);
	addEventListener('online', () => (b.onlineAt = performance.now()));

	/** Watch for an article holding `text` in the message log (a message being posted). */
	b.expectText = (text) => {
		b.text = text;
		b.textSeenAt = null;
		b.textPaintedAt = null;
		b.enterAt = null;
	};

	/**
	 * Watch for search results: the first mutation after which the element matched by
	 * `selector` holds a link and shows text different from what it showed at this call.
	 */
	b.expectResults = (selector) => {
		const el = () => document.querySelector(selector);
		const before = el() ? el().textContent : null;
		b.resultsSeenAt = null;
		b.resultsPaintedAt = null;
		b.inputAt = null;
		b.results = {
			check: () => {
				const now = el();
				return now !== null && now.querySelector('a') !== null && now.textContent !== before;
			}
		};
	};

	b.startFrames = () => {
		b.frames = [];
		const tick = (t) => {
			if (!b.frames) return;
			b.frames.push(t);
			requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
	};
	b.stopFrames = () => {
		const f = b.frames || [];
		b.frames = null;
		return f;
	};
	b.longTasksSince = (t) => b.longTasks.filter((x) => x.start + x.duration > t);

	// Seeding: bytes arrive as base64 chunks, then go into a document's IndexedDB database in
	// y-indexeddb's layout (an auto-increment `updates` store of Yjs updates, and `custom`).
	b.addChunk = (s) => {
		b.chunks.push(s);
		return b.chunks.length;
	};
	function openDb(name, version) {
		return new Promise((resolve, reject) => {
			const req = version ? indexedDB.open(name, version) : indexedDB.open(name);
			req.onupgradeneeded = () => {
				const db = req.result;
				if (!db.objectStoreNames.contains('updates'))
					db.createObjectStore('updates', { autoIncrement: true });
				if (!db.objectStoreNames.contains('custom')) db.createObjectStore('custom');
			};
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
			req.onblocked = () => reject(new Error(`${name}: open blocked by another connection`));
		});
	}
	b.storeChunks = async (name) => {
		const bin = atob(b.chunks.join(''));
		b.chunks = [];
		const bytes = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
		let db = await openDb(name);
		if (!db.objectStoreNames.contains('updates')) {
			const v = db.version + 1;
			db.close();
			db = await openDb(name, v);
		}
		try {
			await new Promise((resolve, reject) => {
				const tx = db.transaction('updates', 'readwrite');
				tx.objectStore('updates').add(bytes);
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
				tx.onabort = () => reject(tx.error);
			});
		} finally {
			db.close();
		}
		return bytes.length;
	};

	/**
	 * What the relay acknowledged as stored for a document (`kith-delivery`, one Yjs state
	 * vector per document name), so that seeded messages count as delivered, as they would be.
	 */
	b.storeDeliveredVector = async (docName, base64) => {
		const bin = atob(base64);
		const vector = new Uint8Array(bin.length);
		for (let i = 0; i < bin.length; i++) vector[i] = bin.charCodeAt(i);
		const db = await new Promise((resolve, reject) => {
			const req = indexedDB.open('kith-delivery', 1);
			req.onupgradeneeded = () => {
				if (!req.result.objectStoreNames.contains('stored')) req.result.createObjectStore('stored');
			};
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		try {
			await new Promise((resolve, reject) => {
				const tx = db.transaction('stored', 'readwrite');
				tx.objectStore('stored').put(vector, docName);
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
			});
		} finally {
			db.close();
		}
	};

	/** Rows of a conversation in the Dexie index (`kith`, table `messages`); -1 if none yet. */
	b.countIndexed = async (convId) => {
		const names = (await indexedDB.databases()).map((d) => d.name);
		if (!names.includes('kith')) return -1;
		const db = await new Promise((resolve, reject) => {
			const req = indexedDB.open('kith');
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		try {
			if (!db.objectStoreNames.contains('messages')) return -1;
			return await new Promise((resolve, reject) => {
				const req = db
					.transaction('messages')
					.objectStore('messages')
					.index('[conversation_id+created_at]')
					.count(IDBKeyRange.bound([convId, ''], [convId, '\uffff']));
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
		} finally {
			db.close();
		}
	};

	/** Polls the index every `everyMs` until it holds `expected` rows; records when. */
	b.watchIndexed = (convId, expected, everyMs) => {
		b.indexed = { at: null, count: -1 };
		const poll = async () => {
			if (!b.indexed || b.indexed.at !== null) return;
			const n = await b.countIndexed(convId);
			b.indexed.count = n;
			if (n >= expected) b.indexed.at = performance.now();
			else setTimeout(poll, everyMs);
		};
		void poll();
	};
})();
