import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { expectNotice, message, onboard, unique } from './helpers';

/** A 4×3 red PNG. */
const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAEklEQVR4nGP4z8AARwzEcQAAxfsO8oZXZeAAAAAASUVORK5CYII=',
	'base64'
);

/** A second person: a browser context of their own (their own device key and storage). */
async function person(browser: Browser, name: string): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await onboard(page, name, { inGeneral: true });
	return page;
}

async function attach(
	page: Page,
	files: Array<{ name: string; mimeType: string; buffer: Buffer }>
) {
	const [chooser] = await Promise.all([
		page.waitForEvent('filechooser'),
		page.getByRole('button', { name: 'Attach file' }).click()
	]);
	await chooser.setFiles(files);
}

/** The voice messages of one person in #general. */
function voiceOf(page: Page, author: string) {
	return page
		.getByRole('log', { name: 'general' })
		.getByRole('article')
		.filter({ hasText: author })
		.getByRole('group', { name: 'Voice message' });
}

async function send(page: Page, text: string) {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.fill(text);
	await box.press('Enter');
}

/** Every PUT the page sends to the blob store. */
function uploads(page: Page): string[] {
	const seen: string[] = [];
	page.on('request', (r) => {
		if (r.method() === 'PUT' && new URL(r.url()).pathname.startsWith('/blobs/')) seen.push(r.url());
	});
	return seen;
}

test('a file with an image preview is sent, and the other person sees the preview and opens the files', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const a = await person(browser, unique('Ada'));
	const b = await person(browser, unique('Bo'));
	const notes = `notes ${unique('x')}\n`;
	await attach(a, [
		{ name: 'photo.png', mimeType: 'image/png', buffer: PNG },
		{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(notes) }
	]);
	const tray = a.getByRole('list', { name: 'Files to send' });
	await expect(tray.getByRole('button', { name: 'Remove photo.png' })).toBeVisible();
	await expect(tray.getByRole('button', { name: 'Remove notes.txt' })).toBeVisible();
	const text = unique('two files');
	await send(a, text);
	await expect(tray).toHaveCount(0);

	const onA = message(a, text, 'general');
	await expect(onA.getByRole('link', { name: 'photo.png' })).toBeVisible();
	await expect(onA.getByText('Uploading')).toHaveCount(0, { timeout: 10_000 });

	// Bo's device downloads the bytes from the relay, checks their hash and makes the thumbnail.
	const onB = message(b, text, 'general');
	const photo = onB.getByRole('link', { name: 'photo.png' });
	await expect(photo).toBeVisible({ timeout: 10_000 });
	const img = photo.locator('img');
	await expect
		.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
		.toBeGreaterThan(0);
	await expect(onB.getByRole('link', { name: 'notes.txt' })).toContainText('text/plain');

	const [download] = await Promise.all([
		b.waitForEvent('download'),
		onB.getByRole('link', { name: 'notes.txt' }).click()
	]);
	expect(download.suggestedFilename()).toBe('notes.txt');
	expect(readFileSync((await download.path())!, 'utf8')).toBe(notes);
	const [image] = await Promise.all([b.waitForEvent('download'), photo.click()]);
	expect(readFileSync((await image.path())!).equals(PNG)).toBe(true);

	// Attachments and the composer's file controls pass axe.
	const axe = await new AxeBuilder({ page: b }).analyze();
	const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	expect(
		serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
	).toEqual([]);

	// Dropped and pasted files are attached too.
	const dropped = await a.evaluateHandle(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
		return dt;
	});
	await a.getByRole('log', { name: 'general' }).dispatchEvent('drop', { dataTransfer: dropped });
	await a.getByRole('textbox', { name: 'Message' }).evaluate((box) => {
		const dt = new DataTransfer();
		dt.items.add(new File(['pasted bytes'], 'pasted.txt', { type: 'text/plain' }));
		box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
	});
	await expect(tray.getByRole('button', { name: 'Remove dropped.txt' })).toBeVisible();
	await expect(tray.getByRole('button', { name: 'Remove pasted.txt' })).toBeVisible();
	// No text needed: files alone make a message.
	await a.getByRole('button', { name: 'Send' }).click();
	const both = b
		.getByRole('log', { name: 'general' })
		.getByRole('article')
		.filter({
			has: b.getByRole('link', { name: 'dropped.txt' })
		});
	await expect(both.getByRole('link', { name: 'pasted.txt' })).toBeVisible({ timeout: 10_000 });

	// A file in a thread: Enter sends it with no text.
	await onA.hover();
	await onA.getByRole('button', { name: 'Reply in thread' }).click();
	const threadA = a.locator('aside');
	const [chooser] = await Promise.all([
		a.waitForEvent('filechooser'),
		threadA.getByRole('button', { name: 'Attach file' }).click()
	]);
	await chooser.setFiles([
		{ name: 'reply.txt', mimeType: 'text/plain', buffer: Buffer.from('in thread') }
	]);
	await expect(threadA.getByRole('button', { name: 'Remove reply.txt' })).toBeVisible();
	await threadA.getByRole('textbox', { name: 'Reply' }).press('Enter');
	await expect(onB).toContainText('1 reply', { timeout: 10_000 });
	await onB.hover();
	await onB.getByRole('button', { name: 'Reply in thread' }).click();
	await expect(b.locator('aside').getByRole('link', { name: 'reply.txt' })).toBeVisible({
		timeout: 10_000
	});

	await a.context().close();
	await b.context().close();
});

test('a video shows inline with a poster frame made on the receiving device', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const a = await person(browser, unique('Ada'));
	const b = await person(browser, unique('Bo'));
	// A one-second WebM drawn on a canvas and recorded in the page: a real video file.
	const clip = await a.evaluateHandle(async () => {
		const canvas = document.createElement('canvas');
		canvas.width = 160;
		canvas.height = 120;
		const ctx = canvas.getContext('2d')!;
		const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm' });
		const chunks: Blob[] = [];
		recorder.ondataavailable = (e) => chunks.push(e.data);
		const done = new Promise((r) => (recorder.onstop = r));
		recorder.start(100);
		for (let i = 0; i < 15; i++) {
			ctx.fillStyle = `hsl(${i * 24}, 80%, 50%)`;
			ctx.fillRect(0, 0, 160, 120);
			await new Promise((r) => setTimeout(r, 66));
		}
		recorder.stop();
		await done;
		const dt = new DataTransfer();
		dt.items.add(new File(chunks, 'clip.webm', { type: 'video/webm' }));
		return dt;
	});
	await a.getByRole('log', { name: 'general' }).dispatchEvent('drop', { dataTransfer: clip });
	await expect(a.getByRole('button', { name: 'Remove clip.webm' })).toBeVisible();
	const text = unique('a clip');
	await send(a, text);
	const onB = message(b, text, 'general');
	await expect(onB.getByRole('link', { name: 'clip.webm' })).toBeVisible({ timeout: 10_000 });
	const video = onB.locator('video');
	await expect(video).toHaveAttribute('aria-label', 'clip.webm');
	await expect(video).toHaveAttribute('poster', /^blob:/, { timeout: 10_000 });
	await a.context().close();
	await b.context().close();
});

test('a file over the relay’s limit is refused with a message before any byte is sent; one under it shows upload progress', async ({
	browser
}) => {
	test.setTimeout(60_000);
	expectNotice(/^\[notice\] Attaching "huge\.bin" failed: /);
	const a = await person(browser, unique('Ada'));
	const put = uploads(a);
	await attach(a, [
		{
			name: 'huge.bin',
			mimeType: 'application/octet-stream',
			buffer: Buffer.alloc(6 * 1024 * 1024)
		}
	]);
	const alert = a.getByRole('alert').filter({ hasText: 'huge.bin' });
	await expect(alert).toContainText('"huge.bin" is 6 MiB; this relay accepts files up to 5 MiB.');
	await expect(alert).toContainText('Nothing was sent');
	await expect(a.getByRole('list', { name: 'Files to send' })).toHaveCount(0);
	expect(put).toEqual([]);

	// A file under the limit uploads with a progress bar (the upload slowed to 1 MiB/s).
	const cdp = await a.context().newCDPSession(a);
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: -1,
		uploadThroughput: 1024 * 1024
	});
	await attach(a, [
		{
			name: 'big.bin',
			mimeType: 'application/octet-stream',
			buffer: Buffer.alloc(3 * 1024 * 1024, 7)
		}
	]);
	await expect(a.getByRole('button', { name: 'Remove big.bin' })).toBeVisible();
	const text = unique('a big one');
	await send(a, text);
	const progress = message(a, text, 'general').getByRole('progressbar', {
		name: 'Uploading big.bin'
	});
	await expect(progress).toBeVisible({ timeout: 5_000 });
	await expect
		.poll(() => progress.evaluate((p: HTMLProgressElement) => p.value), { timeout: 5_000 })
		.toBeGreaterThan(0);
	await expect(progress).toHaveCount(0, { timeout: 15_000 });
	expect(put).toHaveLength(1);
	await a.context().close();
});

test('a voice message is recorded with a level meter, cancelled or sent, received and played with a seek bar', async ({
	browser
}) => {
	test.setTimeout(60_000);
	const ada = unique('Ada');
	const a = await person(browser, ada);
	const b = await person(browser, unique('Bo'));

	// Cancelled: nothing is sent.
	await a.getByRole('button', { name: 'Record voice message' }).click();
	await expect(a.getByRole('timer', { name: 'Recording time' })).toHaveText('0:00');
	await a.getByRole('button', { name: 'Cancel recording' }).click();
	await expect(a.getByRole('button', { name: 'Record voice message' })).toBeFocused();

	await a.getByRole('button', { name: 'Record voice message' }).click();
	const meter = a.getByRole('meter', { name: 'Microphone level' });
	// Chromium's fake microphone beeps: the meter moves.
	await expect
		.poll(() => meter.evaluate((m: HTMLMeterElement) => m.value), { timeout: 5_000 })
		.toBeGreaterThan(0);
	await expect(a.getByRole('timer', { name: 'Recording time' })).toHaveText('0:02', {
		timeout: 5_000
	});
	await a.getByRole('button', { name: 'Stop recording' }).click();

	// The one voice message of this test's Ada (#general is shared, and its list is virtual).
	const voice = voiceOf(b, ada);
	await expect(voice).toHaveCount(1, { timeout: 10_000 });
	const mine = voice.getByRole('button', { name: 'Play voice message' });
	await expect(mine).toBeEnabled({ timeout: 10_000 });
	// The recording's duration is written into the file, so it shows before playing.
	await expect(voice).toContainText(/0:00 \/ 0:0[1-9]/);
	const seek = voice.getByRole('slider', { name: 'Seek voice message' });
	await expect(seek).toBeEnabled();
	await mine.click();
	await expect(voice.getByRole('button', { name: 'Pause voice message' })).toBeVisible();
	await expect(voice).toContainText(/0:01 \/ 0:0[1-9]/, { timeout: 5_000 });
	// It plays to the end; the seek bar then takes it back.
	await expect(voice.getByRole('button', { name: 'Play voice message' })).toBeVisible({
		timeout: 10_000
	});
	await seek.fill('0');
	await expect(voice).toContainText(/0:00 \/ 0:0[1-9]/);

	await a.context().close();
	await b.context().close();
});

test('files and voice recorded offline upload on reconnect, and a received attachment opens offline', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const ada = unique('Ada');
	const a = await person(browser, ada);
	const b = await person(browser, unique('Bo'));
	const status = a.getByRole('status', { name: 'Connection' });

	await a.context().setOffline(true);
	await expect(status).toContainText('Offline');
	const text = unique('from the train');
	const bytes = `written offline ${unique('y')}`;
	await attach(a, [{ name: 'train.txt', mimeType: 'text/plain', buffer: Buffer.from(bytes) }]);
	await expect(a.getByRole('button', { name: 'Remove train.txt' })).toBeVisible();
	await send(a, text);
	const onA = message(a, text, 'general');
	// The sender opens it at once, from the device; it waits to upload.
	await expect(onA.getByRole('link', { name: 'train.txt' })).toBeVisible();
	await expect(onA).toContainText('Waiting to upload');
	// A voice message recorded offline waits too.
	await a.getByRole('button', { name: 'Record voice message' }).click();
	await expect(a.getByRole('timer', { name: 'Recording time' })).toHaveText('0:01', {
		timeout: 5_000
	});
	await a.getByRole('button', { name: 'Stop recording' }).click();
	const voiceA = voiceOf(a, ada);
	await expect(voiceA).toContainText('Waiting to upload');

	await a.context().setOffline(false);
	await expect(status).toContainText('Connected', { timeout: 10_000 });
	await expect(onA).not.toContainText('Waiting to upload', { timeout: 15_000 });
	await expect(voiceA).not.toContainText('Waiting to upload', { timeout: 15_000 });

	const onB = message(b, text, 'general');
	await expect(onB.getByRole('link', { name: 'train.txt' })).toBeVisible({ timeout: 15_000 });
	const voiceB = voiceOf(b, ada);
	await expect(voiceB.getByRole('button', { name: 'Play voice message' })).toBeEnabled({
		timeout: 15_000
	});

	// Bo goes offline and reloads: the attachment opens from his device.
	await b.evaluate(async () => {
		await navigator.serviceWorker.ready;
	});
	await b.context().setOffline(true);
	await b.reload();
	const offlineB = message(b, text, 'general');
	const link = offlineB.getByRole('link', { name: 'train.txt' });
	await expect(link).toBeVisible({ timeout: 10_000 });
	const [download] = await Promise.all([b.waitForEvent('download'), link.click()]);
	expect(readFileSync((await download.path())!, 'utf8')).toBe(bytes);
	await b.context().setOffline(false);

	await a.context().close();
	await b.context().close();
});
