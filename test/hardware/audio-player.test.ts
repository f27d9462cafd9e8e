import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlayers, PlaySoundPlayer } from '../../hardware/audio-player.ts';
import { HeldSound, writeSilentMp3, writeWav } from '../fixtures/audio-files.ts';
import { captureLog } from '../fixtures/captured-log.ts';
import { alive } from '../fixtures/next-event.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-audio-'));
  writeWav(join(dir, 'owl.wav'));
  writeSilentMp3(join(dir, 'coin.mp3'));
  // A RIFF header cut short: aplay exits 1 (plain text it would play as raw bytes).
  writeFileSync(join(dir, 'broken.wav'), Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk', 'latin1'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function silentPlayer() {
  const captured = captureLog();
  const spawned: { file: string; pid: number | undefined }[] = [];
  const player = new PlaySoundPlayer({ log: captured.log, device: 'null', onSpawn: (file, pid) => spawned.push({ file, pid }) });
  return { player, spawned, captured };
}

describe('PlaySoundPlayer on ALSA null', () => {
  it('builds aplay and mpg123 command lines for the device', () => {
    expect(defaultPlayers('null')).toEqual({ wav: ['aplay', '-q', '-D', 'null'], mp3: ['mpg123', '-q', '-o', 'alsa', '-a', 'null'] });
  });

  it('plays a WAV with aplay and an MP3 with mpg123 to the end', async () => {
    const { player, spawned, captured } = silentPlayer();
    const wav = player.play(join(dir, 'owl.wav'));
    expect(await wav.finished).toBe('finished');
    const mp3 = player.play(join(dir, 'coin.mp3'));
    expect(await mp3.finished).toBe('finished');
    expect(spawned.map((s) => s.file)).toEqual([join(dir, 'owl.wav'), join(dir, 'coin.mp3')]);
    expect(spawned.every((s) => typeof s.pid === 'number')).toBe(true);
    expect(captured.problems()).toEqual([]);
  });

  it('kills the previous player process when a new sound starts, even one stuck reading its file', async () => {
    const { player, spawned } = silentPlayer();
    const held = new HeldSound(join(dir, 'long-story.wav'));
    try {
      const first = player.play(held.path);
      expect(first.pid).toBeTypeOf('number');
      // Once aplay blocks reading the FIFO it shrugs off SIGTERM (its read restarts).
      await held.openedBy(first.pid!);
      expect(alive(first.pid!)).toBe(true);
      const second = player.play(join(dir, 'owl.wav'));
      expect(await first.finished).toBe('stopped');
      expect(alive(first.pid!)).toBe(false);
      expect(await second.finished).toBe('finished');
      expect(spawned.map((s) => s.file)).toEqual([held.path, join(dir, 'owl.wav')]);
    } finally {
      held.end();
    }
  });

  it('lets a held sound finish when its stream ends', async () => {
    const { player } = silentPlayer();
    const held = new HeldSound(join(dir, 'held-to-end.wav'));
    const handle = player.play(held.path);
    await held.openedBy(handle.pid!);
    held.end();
    expect(await handle.finished).toBe('finished');
  });

  it('stop() ends the current sound', async () => {
    const { player } = silentPlayer();
    const held = new HeldSound(join(dir, 'stopped.wav'));
    try {
      const handle = player.play(held.path);
      player.stop();
      expect(await handle.finished).toBe('stopped');
      expect(alive(handle.pid!)).toBe(false);
    } finally {
      held.end();
    }
  });

  it('names a missing file and the fix, without spawning anything', async () => {
    const { player, spawned, captured } = silentPlayer();
    const handle = player.play(join(dir, 'nowhere.wav'));
    expect(await handle.finished).toBe('failed');
    expect(spawned).toEqual([]);
    expect(captured.problems()).toEqual([expect.stringMatching(/nowhere\.wav: the file is missing: put it back .*hedgerow box assign/)]);
  });

  it('reports a file the player rejects with its exit code (play-sound passes a number, not an Error)', async () => {
    const { player, captured } = silentPlayer();
    const handle = player.play(join(dir, 'broken.wav'));
    expect(await handle.finished).toBe('failed');
    expect(captured.problems()).toEqual([expect.stringMatching(/aplay could not play .*broken\.wav \(exit code 1\): check that it is a valid WAV file/)]);
  });

  it('names a player that is not installed and its package', async () => {
    const captured = captureLog();
    const player = new PlaySoundPlayer({ log: captured.log, players: { wav: ['no-such-player-xyz', '-q'] } });
    const handle = player.play(join(dir, 'owl.wav'));
    expect(await handle.finished).toBe('failed');
    expect(captured.problems()).toEqual([expect.stringMatching(/the player "no-such-player-xyz" is not installed/)]);
    // The box keeps going: the next sound with a working player plays.
    const ok = new PlaySoundPlayer({ log: captured.log, device: 'null' }).play(join(dir, 'owl.wav'));
    expect(await ok.finished).toBe('finished');
  });

  it('refuses a format it has no player for and says how to fix it', async () => {
    writeFileSync(join(dir, 'song.ogg'), 'OggS');
    const { player, captured } = silentPlayer();
    expect(await player.play(join(dir, 'song.ogg')).finished).toBe('failed');
    expect(captured.problems()[0]).toMatch(/no player for \.ogg files .* add museum\.audio\.players\.ogg/);
  });

  it('changes no mixer on the null device and says so', async () => {
    const { player, captured } = silentPlayer();
    await player.setVolume(140);
    expect(captured.text()).toContain('volume 100% (no mixer configured');
  });
});
