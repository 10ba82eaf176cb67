/**
 * Cycle detection over a small dependency graph (consts, named values, functions): Tarjan's
 * strongly connected components, and a shortest path inside a component to name the cycle.
 */

export interface CycleInfo<T> {
  /** True when `a -> b` is an edge of a cycle (both in one cyclic component). */
  inCycle(a: T, b: T): boolean;
  /** The names along a cycle through the edge a -> b: [a, b, ..., a]. */
  path(a: T, b: T): T[];
}

export function findCycles<T>(nodes: readonly T[], edges: (n: T) => Iterable<T>): CycleInfo<T> {
  const index = new Map<T, number>();
  const low = new Map<T, number>();
  const comp = new Map<T, number>();
  const onStack = new Set<T>();
  const stack: T[] = [];
  const selfLoop = new Set<T>();
  const compSize: number[] = [];
  let counter = 0;
  const known = new Set(nodes);

  const succ = (n: T): T[] => [...edges(n)].filter((m) => known.has(m));

  // Iterative Tarjan (graphs here are small, but user files can be long chains).
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: T; next: T[]; i: number }[] = [];
    const visit = (n: T) => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, next: succ(n), i: 0 });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame.i < frame.next.length) {
        const m = frame.next[frame.i++];
        if (m === frame.node) selfLoop.add(m);
        if (!index.has(m)) {
          visit(m);
        } else if (onStack.has(m)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(m)!));
        }
        continue;
      }
      work.pop();
      const n = frame.node;
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(n)!));
      }
      if (low.get(n) === index.get(n)) {
        const id = compSize.length;
        let size = 0;
        let m: T;
        do {
          m = stack.pop() as T;
          onStack.delete(m);
          comp.set(m, id);
          size++;
        } while (m !== n);
        compSize.push(size);
      }
    }
  }

  const cyclic = (n: T): boolean => {
    const c = comp.get(n);
    return c !== undefined && (compSize[c] > 1 || selfLoop.has(n));
  };

  return {
    inCycle(a: T, b: T): boolean {
      if (!known.has(a) || !known.has(b)) return false;
      if (a === b) return selfLoop.has(a);
      return cyclic(a) && comp.get(a) === comp.get(b);
    },
    path(a: T, b: T): T[] {
      if (a === b) return [a, a];
      // Shortest path from b back to a inside the component.
      const c = comp.get(a);
      const prev = new Map<T, T>();
      const queue: T[] = [b];
      const seen = new Set<T>([b]);
      while (queue.length > 0) {
        const n = queue.shift() as T;
        if (n === a) break;
        for (const m of succ(n)) {
          if (comp.get(m) !== c || seen.has(m)) continue;
          seen.add(m);
          prev.set(m, n);
          queue.push(m);
        }
      }
      const back: T[] = [];
      let cur: T | undefined = a;
      while (cur !== undefined && cur !== b) {
        back.push(cur);
        cur = prev.get(cur);
      }
      back.push(b);
      back.reverse(); // b ... a
      return [a, ...back];
    },
  };
}
