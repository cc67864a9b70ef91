import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs mounted for one test, so "the disk is full" can be made real without touching
 * the machine's own disks: fill() writes a filler file until ENOSPC, free() deletes it. Needs
 * root (CI runs as root); `SmallDisk.mount` returns null where mounting is not allowed.
 */
export class SmallDisk {
  private filler: string | null = null;

  private constructor(readonly dir: string) {}

  static mount(sizeBytes: number): SmallDisk | null {
    const dir = mkdtempSync(join(tmpdir(), 'st-rel-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    } catch {
      rmdirSync(dir);
      return null;
    }
    return new SmallDisk(dir);
  }

  /** Takes every free byte; returns how many it took. */
  fill(): number {
    this.filler = join(this.dir, `filler-${Date.now()}`);
    const fd = openSync(this.filler, 'w');
    let written = 0;
    try {
      for (const chunk of [64 * 1024, 4096, 512, 1]) {
        const buffer = Buffer.alloc(chunk, 0x61);
        for (;;) {
          try {
            written += writeSync(fd, buffer);
          } catch {
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  free(): void {
    if (this.filler) rmSync(this.filler, { force: true });
    this.filler = null;
  }

  /** Remounts read-only (fails with EBUSY while a file on it is open for writing). */
  setReadOnly(readOnly: boolean): void {
    execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, this.dir], { stdio: 'pipe' });
  }

  unmount(): void {
    try {
      execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
