import { randomUUID } from 'node:crypto';
import { type Dirent, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Store, StoredObject } from './store';

/** A Store on a local folder; writes go to a temporary file first and are renamed into place (atomic on POSIX). */
export class FileStore implements Store {
  readonly url: string;

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.url = `file://${this.root}`;
  }

  private resolve(key: string): string {
    const full = path.resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + path.sep)) {
      throw new Error(`key "${key}" escapes the store root ${this.root}`);
    }
    return full;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const target = this.resolve(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Unique per write: two writes of one key in the same millisecond must not share a temporary file.
    const tmp = `${target}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.resolve(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.includes('.tmp-')) {
          const key = path.relative(this.root, full).split(path.sep).join('/');
          if (key.startsWith(prefix)) out.push({ key, size: (await fs.stat(full)).size });
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const target = this.resolve(key);
    await fs.rm(target, { force: true });
    // Remove folders the delete emptied (pruned checkpoints), as S3 has no folders to leave behind.
    for (
      let dir = path.dirname(target);
      dir !== this.root && dir.startsWith(this.root + path.sep);
      dir = path.dirname(dir)
    ) {
      try {
        await fs.rmdir(dir);
      } catch {
        break; // not empty (or already gone): stop climbing
      }
    }
  }

  /** Local writes are durable when put() resolves. */
  async flush(): Promise<void> {}

  child(prefix: string): Store {
    return new FileStore(this.resolve(prefix));
  }
}
