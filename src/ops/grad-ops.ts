/**
 * The ops a backward rule may call on other op families, handed to every rule by the autograd engine as its third
 * argument. Gradients cross families in both directions (the gradient of sum is an expand, that of expand a sum;
 * that of exp a mul, that of sub a neg), so rules that named one another through imports made the op files a
 * cycle. A rule takes what it needs from here instead: `vjp: (g, ctx, { mul, sumTo }) => ...`.
 */
export { add, sub, mul, div, equal } from './binary.js';
export { neg, square } from './unary.js';
export { sum, sumTo } from './reduce.js';
export { reshape, expand } from './shape.js';
export { where } from './where.js';
