// Test-only entry: the firmware's crypto modules, exported over raw pointers so tests can drive
// them with vectors. Built by `node device/build.mjs harness-crypto` with the firmware's flags.
// Tests write inputs into scratch() and read outputs from it; nothing here allocates.

const SCRATCH_BYTES: i32 = 8192;
const SCRATCH: usize = memory.data(SCRATCH_BYTES, 16);

/** The 8 KiB test I/O region. */
export function scratch(): usize { return SCRATCH; }

/** End of all static data (AssemblyScript's __heap_base): the scratch region plus every crypto
 *  buffer and table, laid out from the default memory base (1024). Tests hold the crypto part to
 *  its budget. */
export function staticEnd(): usize { return __heap_base; }

export { sha256 } from "../crypto/sha256";
export { sha512, sha512Init, sha512Update, sha512Final } from "../crypto/sha512";
export { ed25519PublicKey, ed25519Sign, ed25519Verify } from "../crypto/ed25519";
