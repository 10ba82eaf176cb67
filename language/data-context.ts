/**
 * Where a document's data files live: `csv` paths are relative to the `.nn` file and must stay
 * inside the workspace root (by default the file's own folder; an editor or the CLI can set one).
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { LangiumDocument, LangiumSharedCoreServices } from 'langium';
import { URI } from 'langium';
import type { DataContext } from '../engine/data/types';

export class NnDataContextProvider {
  private readonly roots = new Map<string, string>();
  /** Used for every document without its own root (e.g. the editor's first workspace folder). */
  defaultWorkspaceRoot: string | undefined;
  /**
   * When set, data files are not read at all (an editor's untrusted workspace): a `csv` source is
   * a `data-error` with this reason. Generated data sets are unaffected.
   */
  fileAccessBlocked: string | undefined;

  constructor(private readonly shared?: LangiumSharedCoreServices) {}

  /** Sets the workspace root of one document (by URI string). */
  setWorkspaceRoot(uri: string, root: string | undefined): void {
    if (root === undefined) this.roots.delete(uri);
    else this.roots.set(uri, resolve(root));
  }

  /** The data context of a document; undefined for documents that are not files. */
  contextFor(document: LangiumDocument): DataContext | undefined {
    const uri = document.uri;
    if (uri.scheme !== 'file') return undefined;
    const baseDir = dirname(uri.fsPath);
    const own = this.roots.get(uri.toString());
    if (own) return { baseDir, workspaceRoot: own };
    const folder = this.workspaceFolderOf(uri.fsPath);
    if (folder) return { baseDir, workspaceRoot: folder };
    if (this.defaultWorkspaceRoot) return { baseDir, workspaceRoot: resolve(this.defaultWorkspaceRoot) };
    return { baseDir, workspaceRoot: baseDir };
  }

  private workspaceFolderOf(path: string): string | undefined {
    const folders = this.shared?.workspace.WorkspaceManager.workspaceFolders ?? [];
    let best: string | undefined;
    for (const f of folders) {
      const dir = URI.parse(f.uri).fsPath;
      const rel = relative(dir, path);
      const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
      if (inside && (!best || dir.length > best.length)) best = dir;
    }
    return best;
  }
}
