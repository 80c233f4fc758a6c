import type { AdapterReport } from './adapter.js';
import { defaultMatmulVariant, MATMUL_VARIANTS, type MatmulVariant } from './variants.js';

/** The matmul variant in force: a forced one (tests, the bench), else the one tuned for the adapter, else the default. */
let forced: MatmulVariant | null = null;
const tuned = new Map<string, MatmulVariant>();

/**
 * The identity tuning results are kept under: the adapter as the platform describes it, the CPU for a software
 * adapter (llvmpipe reports the same name on an AMD EPYC and an Intel Xeon, whose best kernels differ), and the wgrad
 * version.
 */
export function adapterKey(report: AdapterReport, version: string): string {
  // The variant list is part of the key: a release that adds a variant re-tunes even at the same version number.
  return [report.vendor, report.architecture, report.device, report.description, report.backend, report.featureLevel, report.cpu, `wgrad ${version}`, MATMUL_VARIANTS.join(',')].join('|');
}

export function matmulVariant(report: AdapterReport): MatmulVariant {
  return forced ?? tuned.get(adapterKey(report, '')) ?? defaultMatmulVariant(report);
}

/** Forces one matmul variant (null restores the tuned or default choice). Used by tests and the bench. */
export function setMatmulVariant(variant: MatmulVariant | null): void {
  forced = variant;
}

/** Records the variant chosen for an adapter in this process. */
export function setTunedVariant(report: AdapterReport, variant: MatmulVariant): void {
  tuned.set(adapterKey(report, ''), variant);
}
