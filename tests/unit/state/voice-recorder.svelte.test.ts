import { afterEach, describe, expect, it, vi } from 'vitest';
import { VoiceRecorder } from '../../../src/lib/state/voice-recorder.svelte';

afterEach(() => vi.unstubAllGlobals());

describe('VoiceRecorder', () => {
	it('a cancel while the microphone is still opening leaves nothing recording', async () => {
		let grant!: (stream: MediaStream) => void;
		const stop = vi.fn();
		const stream = { getTracks: () => [{ stop }] } as unknown as MediaStream;
		vi.stubGlobal('navigator', {
			mediaDevices: { getUserMedia: () => new Promise<MediaStream>((r) => (grant = r)) }
		});
		const constructed = vi.fn();
		vi.stubGlobal(
			'MediaRecorder',
			class {
				static isTypeSupported = () => true;
				constructor() {
					constructed();
				}
			}
		);
		const recorder = new VoiceRecorder();
		const started = recorder.start();
		expect(recorder.state).toBe('starting');
		recorder.cancel();
		expect(recorder.state).toBe('idle');
		grant(stream);
		await started;
		expect(recorder.state).toBe('idle');
		expect(stop).toHaveBeenCalled();
		expect(constructed).not.toHaveBeenCalled();
	});
});
