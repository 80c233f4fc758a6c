import { WgradError } from '../errors.js';

/** An optional peer dependency (onnxruntime-node, sharp) is not installed. */
export class MissingPeerError extends WgradError {
  override name = 'MissingPeerError';
}

// onnxruntime-node's install step downloads CUDA files on Linux x64 unless told to skip; wgrad runs it on the CPU.
const INSTALL: Record<string, string> = {
  'onnxruntime-node': 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
  sharp: 'npm install sharp',
  'onnx-proto': 'npm install onnx-proto',
};

/**
 * Imports an optional peer dependency on first use. When it is missing, the error names the package, what needs it,
 * and the install command; any other failure (a broken native binary) is passed on with the package named.
 */
export async function loadPeer<T>(name: string, purpose: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const missing = (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(name);
    if (missing) {
      throw new MissingPeerError(`${purpose} needs the optional package '${name}', which is not installed. Install it with: ${INSTALL[name] ?? `npm install ${name}`}`);
    }
    throw new WgradError(`${purpose}: loading '${name}' failed: ${e.message ?? String(err)}`);
  }
}
