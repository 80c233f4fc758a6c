let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn with gradient recording off: ops inside it build no graph. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
