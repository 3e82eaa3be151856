// Error codes returned to the host (device/ABI.md, "Error codes"). Negative, never thrown.
export const E_NOT_INITIALIZED: i32 = -1;
export const E_ENTROPY: i32 = -2;
export const E_STORAGE: i32 = -3;
export const E_IDENTITY_CORRUPT: i32 = -4;
export const E_BUSY: i32 = -5;
export const E_BAD_ARGUMENT: i32 = -6;
export const E_LINK: i32 = -7; // reserved (device/ABI.md): link failures are retried by the CoAP timers
export const E_MALFORMED: i32 = -8;
export const E_SEQUENCE_CORRUPT: i32 = -9;
