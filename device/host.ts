// The firmware's imports: everything it needs from the board (device/ABI.md, "Imports").
// Declared once here so the set of imports is visible in one place and the ABI test can hold
// the compiled module to it.

@external("env", "entropy")
export declare function hostEntropy(ptr: usize, len: i32): i32;

@external("env", "now_ms")
export declare function hostNowMs(): i64;

@external("env", "storage_read")
export declare function hostStorageRead(slot: i32, ptr: usize, cap: i32): i32;

@external("env", "storage_write")
export declare function hostStorageWrite(slot: i32, ptr: usize, len: i32): i32;

@external("env", "link_send")
export declare function hostLinkSend(link: i32, ptr: usize, len: i32): i32;

@external("env", "log")
export declare function hostLog(level: i32, ptr: usize, len: i32): void;

// ABI v2: the boot loader's image slots (docs/firmware-update.md).
@external("env", "fw_state")
export declare function hostFwState(out: usize): void;

@external("env", "fw_write")
export declare function hostFwWrite(offset: i32, ptr: usize, len: i32): i32;

@external("env", "fw_install")
export declare function hostFwInstall(manifest: usize, len: i32): i32;

@external("env", "fw_confirm")
export declare function hostFwConfirm(): i32;

export const LINK_RADIO: i32 = 0;
export const LINK_SERIAL: i32 = 1;

export const LOG_DEBUG: i32 = 0;
export const LOG_INFO: i32 = 1;
export const LOG_WARN: i32 = 2;
export const LOG_ERROR: i32 = 3;
