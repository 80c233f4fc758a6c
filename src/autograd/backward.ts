import { AutogradError } from '../errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { add } from '../ops/binary.js';
import { onesLike } from '../ops/creation.js';
import { fmt, sameShape } from '../tensor/dims.js';
import { keep, tidy, type Tensor } from '../tensor/tensor.js';
import * as gradOps from '../ops/grad-ops.js';

/**
 * Tensors reachable from `root` through grad nodes, in an order where every tensor comes after all tensors it
 * depends on. Iterative (deep graphs cannot overflow the stack) and deterministic (inputs are visited in order).
 */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const child = inputs[next];
      if (child.requiresGrad && child.isDisposed) {
        // dispose() drops a tensor's grad node, so the walk would stop there and the leaves behind it get no gradient.
        throw new AutogradError(
          `backward(): the graph behind this tensor was freed: an input ${fmt(child.shape)} of '${t.node!.op}' was disposed (by tidy() or ` +
            `dispose()) before backward() ran, so no gradient could reach the parameters behind it. Call backward() inside the ` +
            `tidy() that computes the loss (as fit() does), or compute the loss outside tidy().`,
        );
      }
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Reverse-mode differentiation from `root`. Leaves that require grad get `.grad` (accumulated across calls, as in
 * PyTorch; reset with zeroGrad). `grad` is the upstream gradient; it may be omitted only for a one-element root.
 * Intermediate gradients are freed as soon as they have been propagated.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) {
    throw new AutogradError(
      `backward(): tensor ${fmt(root.shape)} does not require grad; create its inputs with { requiresGrad: true } and keep grad mode on.`,
    );
  }
  if (grad === undefined && root.size !== 1) {
    throw new AutogradError(
      `backward(): the output has shape ${fmt(root.shape)}, not a scalar; pass an upstream gradient of that shape, ` +
        `or reduce it first (sum() or mean()).`,
    );
  }
  if (grad !== undefined && !sameShape(grad.shape, root.shape)) {
    throw new AutogradError(`backward(): upstream gradient ${fmt(grad.shape)} does not match the output ${fmt(root.shape)}; pass a gradient of shape ${fmt(root.shape)}.`);
  }
  root.storage; // raises DisposedError early, before any work
  const order = topoOrder(root);
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    // How many places hold each gradient tensor, so that it is freed only when the last one lets go.
    const holders = new Map<Tensor, number>();
    const hold = (g: Tensor) => holders.set(g, (holders.get(g) ?? 0) + 1);
    const drop = (g: Tensor) => {
      const n = (holders.get(g) ?? 0) - 1;
      holders.set(g, n);
      if (n <= 0 && g !== grad) g.dispose();
    };
    const seed = grad ?? onesLike(root);
    grads.set(root, seed);
    hold(seed);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (t.node) {
        // A rule's intermediates (views, masks, wrapped constants) are freed here; only its gradients leave.
        const node = t.node;
        const inputGrads = tidy(() => node.backward(g, gradOps));
        t.node.inputs.forEach((input, k) => {
          const gi = inputGrads[k];
          if (!gi || !input.requiresGrad) return;
          const prev = grads.get(input);
          if (prev) {
            const total = add(prev, gi);
            hold(gi);
            drop(prev);
            drop(gi);
            grads.set(input, total);
            hold(total);
          } else {
            grads.set(input, gi);
            hold(gi);
          }
        });
        drop(g);
      } else {
        // A leaf: its gradient outlives this call, so it leaves every tidy() scope.
        // A gradient tensor shared with another entry (or the caller's) is copied, so no two leaves alias one .grad.
        const shared = (holders.get(g) ?? 0) > 1 || g === grad;
        const total = t.grad ? add(t.grad, g) : shared ? add(g, 0) : g;
        if (t.grad && t.grad !== total) t.grad.dispose();
        if (total !== g) drop(g);
        t.grad = keep(total);
      }
    }
  });
}

/** Clears `.grad` on the given tensors. */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
  }
}
