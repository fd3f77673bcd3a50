/**
 * A checkout of another commit beside this one, for benchmarks that measure this checkout's code against it: a
 * detached git worktree in the temp folder that shares this checkout's node_modules. `remove` deletes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BaseWorktree {
  /** The worktree's `src` folder. */
  src: string;
  remove: () => void;
}

/** A worktree of git ref `ref` of the repository at `root`. */
export function baseWorktree(root: string, ref: string): BaseWorktree {
  const dir = mkdtempSync(join(tmpdir(), 'forkguard-base-'));
  const tree = join(dir, 'tree');
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', tree, ref], { stdio: 'ignore' });
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
  return {
    src: join(tree, 'src'),
    remove: () => {
      execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
