// Typed errors of the contract VM. A module refused at deploy is a ContractCodeError (the deploy
// transaction is rejected with CONTRACT_CODE_INVALID and the reason); what stops a run is a
// RunStop, which the runner turns into the run's failure code (never an exception out of the VM).
import { MoteError } from "../../shared/errors.ts";

/** A module that cannot be deployed: the message says which rule it breaks. */
export class ContractCodeError extends MoteError {
  constructor(message: string) {
    super("CONTRACT_CODE_INVALID", message);
  }
}

/** Why a run ended early; `code` becomes the run's (and a call transaction's) failure. */
export type RunStopCode = "CONTRACT_OUT_OF_GAS" | "CONTRACT_TRAP" | "CONTRACT_CALL_DEPTH" | "CONTRACT_HOST_ERROR" | "CONTRACT_ABORT";

/** Thrown by host functions to stop the run; the runner catches it. */
export class RunStop extends Error {
  constructor(
    readonly code: RunStopCode,
    message: string,
  ) {
    super(message);
  }
}

/** Binaryen is still loading (binaryen.ts): this node cannot check a module yet; retry later. */
export class ContractVmNotReady extends Error {
  override name = "ContractVmNotReady";
  constructor() {
    super("the contract VM (Binaryen) is still loading; await contractVmReady() before applying blocks");
  }
}
