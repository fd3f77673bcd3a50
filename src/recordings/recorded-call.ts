/**
 * Recorded calls (CONTRACTS §2) as the rest of forkguard sees them: linear PCM per leg for WAV, RTP packets
 * per leg with capture times for pcap/pcapng.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { isCaptureMagic, readCapture, recordingError } from './capture-file.ts';
import { legsFromCapture, type RecordedPacket } from './capture-legs.ts';
import { isWavMagic, readWav, type WavEncoding } from './wav-reader.ts';

export type { RecordedPacket } from './capture-legs.ts';

export type RecordedCall =
  | {
      kind: 'pcm';
      path: string;
      sampleRate: 8000 | 16000;
      channels: 1 | 2;
      /** Linear PCM per leg at the file rate: [rx, tx or null for a mono file]. */
      legs: [Int16Array, Int16Array | null];
      encoding: WavEncoding;
      /** What the reader read with a caveat, for the caller to show. */
      warnings: string[];
    }
  | {
      kind: 'packets';
      path: string;
      /** Sorted by timeMs, which starts at 0. */
      packets: RecordedPacket[];
      /** The STREP call_leg_id the packets belong to, when the capture was STREP. */
      callLegId?: string;
      /** What the reader ignored (non-RTP flows, other STREP calls), for the caller to show. */
      warnings: string[];
    };

export const RECORDING_EXTENSIONS = ['.wav', '.pcap', '.pcapng'] as const;

/** Reads one recorded call. Throws Error('<path>: <problem>'), one line, for anything unreadable. */
export async function readRecordedCall(path: string): Promise<RecordedCall> {
  let bytes: Uint8Array;
  try {
    const file = await readFile(path);
    // A plain Uint8Array view, so packet payloads compare and serialise as bytes, not as Buffers.
    bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  } catch (err) {
    throw recordingError(path, fileProblem(err));
  }
  return parseRecordedCall(path, bytes);
}

/** The same as readRecordedCall for bytes already in memory; the extension picks the format. */
export function parseRecordedCall(path: string, bytes: Uint8Array): RecordedCall {
  if (bytes.length === 0) throw recordingError(path, 'empty file');
  const ext = extname(path).toLowerCase();
  const wav = ext === '.wav' || (ext !== '.pcap' && ext !== '.pcapng' && isWavMagic(bytes));
  if (wav) {
    const contents = readWav(path, bytes);
    return { kind: 'pcm', path, ...contents };
  }
  if (ext !== '.pcap' && ext !== '.pcapng' && !isCaptureMagic(bytes)) {
    throw recordingError(path, 'not a recorded call (expected a WAV, pcap or pcapng file)');
  }
  const legs = legsFromCapture(path, readCapture(path, bytes));
  return { kind: 'packets', path, packets: legs.packets, callLegId: legs.callLegId, warnings: legs.warnings };
}

function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function isRecordingName(name: string): boolean {
  return (RECORDING_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

function withoutExtension(name: string): string {
  const ext = extname(name);
  return ext === '' ? name : name.slice(0, -ext.length);
}

export interface FoundCall {
  path: string;
  /** CONTRACTS §1 name: path relative to the argument it was found under, without extension, `/`-separated. */
  call: string;
}

/**
 * Expands files and folders (recursively) into recorded calls: *.wav, *.pcap, *.pcapng in folders, any file
 * named directly. Each argument's calls are sorted by name; arguments keep their order. A missing path throws
 * '<path>: no such file or directory'.
 */
export async function findRecordedCalls(paths: string[]): Promise<FoundCall[]> {
  const found: FoundCall[] = [];
  for (const root of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(root);
    } catch (err) {
      throw recordingError(root, fileProblem(err));
    }
    if (!info.isDirectory()) {
      found.push({ path: root, call: withoutExtension(basename(root)) });
      continue;
    }
    const files: string[] = [];
    await walk(root, files);
    files.sort();
    for (const file of files) {
      found.push({ path: file, call: withoutExtension(relative(root, file)).split(sep).join('/') });
    }
  }
  return found;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      // Hidden folders hold tool state (caches, VCS), never recorded calls.
      if (!entry.name.startsWith('.')) await walk(full, out);
    } else if (
      isRecordingName(entry.name) &&
      (entry.isFile() || (await stat(full).catch(() => null))?.isFile())
    ) {
      out.push(full);
    }
  }
}
