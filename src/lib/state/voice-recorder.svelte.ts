import fixWebmDuration from 'fix-webm-duration';

/** The longest voice message: recording stops (and sends) by itself after this. */
export const MAX_RECORDING_MS = 15 * 60 * 1000;

/** A finished recording. */
export interface Recording {
	blob: Blob;
	durationMs: number;
}

function pickMimeType(): string | undefined {
	for (const type of ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'])
		if (typeof MediaRecorder !== 'undefined' && MediaRecorder.isTypeSupported(type)) return type;
	return undefined;
}

/**
 * Records one voice message from the microphone (MediaRecorder), with the elapsed time and a
 * level (0–1, from an AnalyserNode) to show while recording. Works offline: the recording is
 * stored on the device and uploaded later (files.svelte.ts).
 *
 * @example
 * const r = new VoiceRecorder(); await r.start(); … const rec = await r.stop();
 */
export class VoiceRecorder {
	state = $state<'idle' | 'starting' | 'recording'>('idle');
	elapsedMs = $state(0);
	level = $state(0);
	#stream: MediaStream | null = null;
	#recorder: MediaRecorder | null = null;
	#chunks: Blob[] = [];
	#audio: AudioContext | null = null;
	#timer: ReturnType<typeof setInterval> | null = null;
	#startedAt = 0;
	#onLimit: (() => void) | null = null;
	/** Bumped by cancel(): a start still waiting for the microphone then gives up. */
	#generation = 0;

	/** Asks for the microphone and starts recording; `onLimit` runs at {@link MAX_RECORDING_MS}. */
	async start(onLimit?: () => void): Promise<void> {
		if (this.state !== 'idle') return;
		this.state = 'starting';
		this.#onLimit = onLimit ?? null;
		const generation = this.#generation;
		try {
			if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined')
				throw new Error('This browser cannot record audio.');
			const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
			if (generation !== this.#generation) {
				// Cancelled while the browser was still opening the microphone.
				stream.getTracks().forEach((t) => t.stop());
				return;
			}
			this.#stream = stream;
			const mimeType = pickMimeType();
			const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
			this.#chunks = [];
			recorder.ondataavailable = (e) => {
				if (e.data.size > 0) this.#chunks.push(e.data);
			};
			this.#recorder = recorder;
			this.#meter(stream);
			recorder.start(250);
			this.#startedAt = performance.now();
			this.elapsedMs = 0;
			this.state = 'recording';
		} catch (e) {
			this.#release();
			throw e instanceof DOMException && e.name === 'NotAllowedError'
				? new Error('Kith may not use the microphone: allow it in the browser, then try again.')
				: e;
		}
	}

	#meter(stream: MediaStream): void {
		let analyser: AnalyserNode | null = null;
		let samples: Uint8Array<ArrayBuffer> | null = null;
		try {
			this.#audio = new AudioContext();
			analyser = this.#audio.createAnalyser();
			analyser.fftSize = 512;
			this.#audio.createMediaStreamSource(stream).connect(analyser);
			samples = new Uint8Array(analyser.fftSize);
		} catch {
			// No Web Audio: record without a meter.
		}
		this.#timer = setInterval(() => {
			this.elapsedMs = performance.now() - this.#startedAt;
			if (analyser && samples) {
				analyser.getByteTimeDomainData(samples);
				let sum = 0;
				for (const s of samples) sum += ((s - 128) / 128) ** 2;
				// RMS of speech sits around 0.05–0.3: scale so a normal voice fills most of the bar.
				this.level = Math.min(1, Math.sqrt(sum / samples.length) * 3);
			}
			if (this.elapsedMs >= MAX_RECORDING_MS) this.#onLimit?.();
		}, 100);
	}

	/** Stops and returns the recording (its WebM duration written into the file), or null. */
	async stop(): Promise<Recording | null> {
		const recorder = this.#recorder;
		if (this.state !== 'recording' || !recorder) return null;
		// What the person recorded ends now, not when the recorder has flushed its last chunk.
		const durationMs = Math.round(performance.now() - this.#startedAt);
		const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
		recorder.stop();
		await stopped;
		const type = recorder.mimeType || 'audio/webm';
		this.#release();
		let blob = new Blob(this.#chunks, { type });
		this.#chunks = [];
		if (blob.size === 0) return null;
		// MediaRecorder's WebM has no duration in its header, so players show ∞ and cannot seek.
		// fix-webm-duration (a small, widely used library) writes it in.
		if (type.startsWith('audio/webm'))
			blob = await fixWebmDuration(blob, durationMs, { logger: false });
		return { blob, durationMs };
	}

	/** Stops and throws the recording away. */
	cancel(): void {
		this.#generation++;
		if (this.#recorder && this.#recorder.state !== 'inactive') {
			this.#recorder.onstop = null;
			this.#recorder.stop();
		}
		this.#chunks = [];
		this.#release();
	}

	#release(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
		this.#stream?.getTracks().forEach((t) => t.stop());
		this.#stream = null;
		void this.#audio?.close().catch(() => {});
		this.#audio = null;
		this.#recorder = null;
		this.state = 'idle';
		this.level = 0;
	}
}
