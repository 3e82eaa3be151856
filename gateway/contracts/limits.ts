// Fixed limits of the contract VM: what a module may declare and what one run may do. They are
// consensus rules (a node with other limits would refuse or stop what its peers accept), so they
// are constants here, not options. Costs, which governance may tune, are the gas schedule
// (gateway/chain/params.ts, gasPer*).

/** Largest code a deployContract may carry (the transaction's own size limit follows from it). */
export const codeBytesMax = 64 * 1024;
/** Linear memory: a module must declare a maximum of at most this many 64 KiB pages (1 MiB). */
export const memoryPagesMax = 16;
/** Function table: initial and maximum size. */
export const tableSizeMax = 1024;
/** Calls in progress at once (counted by the instrumented prologue of every function). */
export const callDepthMax = 128;
/**
 * Parameters + locals of one function, and nesting of one function's expressions. Together with
 * callDepthMax they bound the native stack a run can use (~128 frames of a few KiB), so V8's own
 * stack limit, which depends on the machine, is never what stops a run.
 */
export const functionLocalsMax = 256;
export const expressionDepthMax = 256;
/** Functions, globals and exports a module may define. */
export const functionsMax = 2048;
export const globalsMax = 256;
export const exportsMax = 128;

/** Contract storage: key and value sizes (bytes). */
export const storageKeyBytesMax = 64;
export const storageValueBytesMax = 1024;
/** Events one run may emit, and the size of their parts. */
export const eventsPerRunMax = 16;
export const eventTopicBytesMax = 32;
export const eventDataBytesMax = 256;
/** Input bytes of a call. */
export const callInputBytesMax = 1024;
/** Subscriptions: criteria per contract, and contracts subscribed chain-wide. */
export const criteriaPerContractMax = 8;
export const subscribedContractsMax = 256;
/** Method names a transaction may call (an exported function's name). */
export const methodBytesMax = 32;
