import type { Module } from '../nn/module.js';

export interface SummaryRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
  trainable: boolean;
}

const thousands = (n: number) => n.toLocaleString('en-US');
const shapeText = (s: (number | null)[]) => `(${s.map((d) => (d === null ? 'None' : d)).join(', ')}${s.length === 1 ? ',' : ''})`;
const mb = (params: number) => `${((params * 4) / 2 ** 20).toFixed(2)} MB`;

/** Keras's summary table: layer (type), output shape and param count, then total, trainable and non-trainable. */
export function renderSummary(name: string, rows: SummaryRow[]): string {
  const total = rows.reduce((a, r) => a + r.params, 0);
  const trainable = rows.filter((r) => r.trainable).reduce((a, r) => a + r.params, 0);
  const cells = rows.map((r) => [`${r.name} (${r.type})`, shapeText(r.outputShape), thousands(r.params)]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)) + 2);
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '━'.repeat(w)).join(m) + r;
  const row = (c: string[], sep: string) => sep + c.map((v, i) => (i === 2 ? ` ${v.padStart(widths[i] - 2)} ` : ` ${v.padEnd(widths[i] - 2)} `)).join(sep) + sep;
  const out = [
    `Model: "${name}"`,
    line('┏', '┳', '┓'),
    row(head, '┃'),
    line('┡', '╇', '┩'),
    ...cells.flatMap((c, i) => [row(c, '│'), ...(i < cells.length - 1 ? [`├${widths.map((w) => '─'.repeat(w)).join('┼')}┤`] : [])]),
    `└${widths.map((w) => '─'.repeat(w)).join('┴')}┘`,
    ` Total params: ${thousands(total)} (${mb(total)})`,
    ` Trainable params: ${thousands(trainable)} (${mb(trainable)})`,
    ` Non-trainable params: ${thousands(total - trainable)} (${mb(total - trainable)})`,
  ];
  return out.join('\n');
}

/** Rows for built layers, with output shapes propagated from an input shape (batch axis shown as None). */
export function layerRows(layers: readonly Module[], inputShape: number[]): SummaryRow[] {
  let shape = inputShape;
  return layers.map((l) => {
    shape = l.computeOutputShape(shape);
    const params = l.parameters();
    return {
      name: l.name,
      type: l.constructor.name,
      outputShape: [null, ...shape],
      params: params.reduce((a, p) => a + p.size, 0),
      trainable: l.trainable,
    };
  });
}
