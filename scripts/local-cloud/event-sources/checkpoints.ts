/**
 * Where a stream mapping has got to, kept across restarts of the local cloud, as Lambda keeps an
 * event source mapping's position: a restarted `npm start` resumes after the last processed record
 * instead of replaying the whole stream history from TRIM_HORIZON. A new stream (a recreated
 * table, a fresh emulator) has a new ARN, so it starts at the mapping's starting position again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface CheckpointStore {
  get(key: string): string | undefined;
  set(key: string, sequenceNumber: string): void;
  flush(): void;
}

export class FileCheckpointStore implements CheckpointStore {
  readonly #positions: Record<string, string>;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly file: string) {
    let positions: Record<string, string> = {};
    try {
      if (existsSync(file)) positions = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      positions = {}; // an unreadable file only costs a replay
    }
    this.#positions = positions;
  }

  get(key: string): string | undefined {
    return this.#positions[key];
  }

  set(key: string, sequenceNumber: string): void {
    this.#positions[key] = sequenceNumber;
    this.#timer ??= setTimeout(() => this.flush(), 250);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    // Merge with what another local cloud (npm start beside the tests) wrote meanwhile.
    let onDisk: Record<string, string> = {};
    try {
      if (existsSync(this.file))
        onDisk = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch {
      onDisk = {};
    }
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify({ ...onDisk, ...this.#positions }, null, 2)}\n`);
  }
}
