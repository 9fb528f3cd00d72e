// Folds symbolized stacks into a flame-graph tree and flattens it into HUATUO's flamedata: one entry per node in
// depth-first order, `level` its depth (the root "all" is 0), `value` its samples with descendants, `self` without.

export interface FlameFrame {
  level: number;
  value: number;
  self: number;
  label: string;
}

export interface FlameNode {
  label: string;
  value: number;
  self: number;
  children: Map<string, FlameNode>;
}

export const ROOT_LABEL = "all";

function node(label: string): FlameNode {
  return { label, value: 0, self: 0, children: new Map() };
}

export class FlameTree {
  readonly root = node(ROOT_LABEL);

  /** Adds `count` samples of a stack given outermost frame first. */
  add(frames: readonly string[], count: number): void {
    let at = this.root;
    at.value += count;
    for (const label of frames) {
      let child = at.children.get(label);
      if (!child) at.children.set(label, (child = node(label)));
      child.value += count;
      at = child;
    }
    at.self += count;
  }

  get total(): number {
    return this.root.value;
  }

  /** Depth first, siblings by label (a stable order, as flame graph tools draw them). */
  toFlamedata(): FlameFrame[] {
    const out: FlameFrame[] = [];
    const visit = (n: FlameNode, level: number) => {
      out.push({ level, value: n.value, self: n.self, label: n.label });
      for (const child of sortedChildren(n, byLabel)) visit(child, level + 1);
    };
    visit(this.root, 0);
    return out;
  }
}

const byLabel = (a: FlameNode, b: FlameNode) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
export const byValue = (a: FlameNode, b: FlameNode) => b.value - a.value || byLabel(a, b);

export function sortedChildren(n: FlameNode, order: (a: FlameNode, b: FlameNode) => number): FlameNode[] {
  return [...n.children.values()].sort(order);
}

/** Rebuilds the tree from flamedata (for rendering a stored document). */
export function treeFromFlamedata(frames: readonly FlameFrame[]): FlameNode {
  const root = node(ROOT_LABEL);
  const path: FlameNode[] = [];
  for (const f of frames) {
    const n: FlameNode = { label: f.label, value: f.value, self: f.self, children: new Map() };
    if (f.level === 0) {
      Object.assign(root, n);
      path.length = 0;
      path.push(root);
      continue;
    }
    path.length = f.level;
    const parent = path[f.level - 1];
    if (!parent) throw new Error(`flamedata: level ${f.level} without a parent`);
    parent.children.set(`${f.label}\u0000${parent.children.size}`, n);
    path.push(n);
  }
  return root;
}
