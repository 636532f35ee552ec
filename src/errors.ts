/* One error class hierarchy for the agent. Every error has a stable `code`
 * string that callers, logs and the console can match on; the message says
 * what failed and why. */

export class VecgateError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/* Names of the VG_E_* codes of native/include/vecgate.h, by value. */
export const DATAPLANE_ERROR_NAMES: Readonly<Record<number, string>> = {
  [-1]: 'EINVAL',
  [-2]: 'ENOMEM',
  [-3]: 'ENOTFOUND',
  [-4]: 'EEXISTS',
  [-5]: 'EIO',
  [-6]: 'EFORMAT',
  [-7]: 'ESTATE',
  [-8]: 'EUNSUPPORTED',
  [-9]: 'ELIMIT',
};

export function dataplaneErrorName(status: number): string {
  return DATAPLANE_ERROR_NAMES[status] ?? `E${status}`;
}

/* A call into the C API failed: carries the C code and vg_last_error(). */
export class DataplaneError extends VecgateError {
  readonly status: number;
  readonly errorName: string;
  readonly call: string;

  constructor(call: string, status: number, detail: string) {
    const errorName = dataplaneErrorName(status);
    super(`VG_${errorName}`, `${call}: ${detail || errorName} (${errorName})`);
    this.status = status;
    this.errorName = errorName;
    this.call = call;
  }
}

/* The requested or best dataplane variant cannot be loaded on this CPU. */
export class VariantError extends VecgateError {
  readonly variant: string;
  readonly missing: string[];

  constructor(code: string, variant: string, message: string, missing: string[] = []) {
    super(code, message);
    this.variant = variant;
    this.missing = missing;
  }
}

/* A typed spec (generator stream, board file) has a bad field: `field` names it. */
export class SpecError extends VecgateError {
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string, code = 'SPEC_INVALID') {
    super(code, `${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

/* Command-line misuse: the CLI exits 2 for these. */
export class UsageError extends VecgateError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/* A COSE_Sign1 message was refused: `reason` says which check failed (its
 * structure, its algorithm, its kid, or the signature itself). */
export class SignatureError extends VecgateError {
  readonly reason: string;

  constructor(reason: string) {
    super('SIGNATURE_INVALID', `signature refused: ${reason}`);
    this.reason = reason;
  }
}

/* An OTA bundle or its install was refused: `code` says which check failed
 * (OTA_SIGNATURE, OTA_FORMAT, OTA_CHUNK_HASH, OTA_TRUNCATED, OTA_ARCH,
 * OTA_BOARD, OTA_DOWNGRADE, ...), `reason` why, in words. */
export class OtaError extends VecgateError {
  readonly reason: string;

  constructor(code: string, reason: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${reason}`, options);
    this.reason = reason;
  }
}
