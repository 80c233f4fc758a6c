/** Base class of every error wgrad raises on purpose. */
export class WgradError extends Error {
  override name = 'WgradError';
}

/** Shapes that do not fit an op (matmul inner dims, broadcasting, reshape sizes). */
export class ShapeError extends WgradError {
  override name = 'ShapeError';
}

/** An axis outside a tensor's rank. */
export class AxisError extends WgradError {
  override name = 'AxisError';
}

/** A dtype an op does not accept. */
export class DTypeError extends WgradError {
  override name = 'DTypeError';
}

/** An index (gather, slice) outside its range or not an integer. */
export class IndexError extends WgradError {
  override name = 'IndexError';
}

/** A tensor used after dispose(). */
export class DisposedError extends WgradError {
  override name = 'DisposedError';
}

/** No adapter could be found, or the device reported a validation/out-of-memory/internal error. */
export class DeviceError extends WgradError {
  override name = 'DeviceError';
}

/** Misuse of autograd: backward() on a non-scalar, grad of a non-differentiable op, mixed backends. */
export class AutogradError extends WgradError {
  override name = 'AutogradError';
}
