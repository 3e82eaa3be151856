/* The natives of device/ABI.md. WAMR checks every (pointer, length) pair declared as "*~" against
 * the module's linear memory before the call, so the drivers only ever see valid native buffers. */
#include "abi.h"

#define ENTROPY_BYTES_MAX 64

static int32_t entropy(wasm_exec_env_t env, uint8_t *ptr, uint32_t len) {
  (void)env;
  if (len > ENTROPY_BYTES_MAX) return -1;
  return board_entropy(ptr, len) == 0 ? 0 : -1;
}

static int64_t now_ms(wasm_exec_env_t env) {
  (void)env;
  return board_now_ms();
}

static int32_t storage_read(wasm_exec_env_t env, int32_t slot, uint8_t *ptr, uint32_t cap) {
  (void)env;
  return board_slot_read(slot, ptr, cap);
}

static int32_t storage_write(wasm_exec_env_t env, int32_t slot, uint8_t *ptr, uint32_t len) {
  (void)env;
  return board_slot_write(slot, ptr, len) == 0 ? 0 : -1;
}

static int32_t link_send(wasm_exec_env_t env, int32_t link, uint8_t *ptr, uint32_t len) {
  (void)env;
  return board_link_send(link, ptr, len) == 0 ? 0 : -1;
}

static void log_line(wasm_exec_env_t env, int32_t level, uint8_t *ptr, uint32_t len) {
  (void)env;
  board_log(level, (const char *)ptr, len);
}

/* Signatures in WAMR's notation: i = i32, I = i64, * = pointer, ~ = length of the preceding pointer. */
static NativeSymbol natives[] = {
  { "entropy", entropy, "(*~)i", NULL },
  { "now_ms", now_ms, "()I", NULL },
  { "storage_read", storage_read, "(i*~)i", NULL },
  { "storage_write", storage_write, "(i*~)i", NULL },
  { "link_send", link_send, "(i*~)i", NULL },
  { "log", log_line, "(i*~)", NULL },
};

bool mote_abi_register(void) {
  return wasm_runtime_register_natives("env", natives, sizeof(natives) / sizeof(natives[0]));
}

const char *mote_error_name(int64_t code) {
  static const char *names[] = { "OK", "E_NOT_INITIALIZED", "E_ENTROPY", "E_STORAGE", "E_IDENTITY_CORRUPT",
    "E_BUSY", "E_BAD_ARGUMENT", "E_LINK", "E_MALFORMED", "E_SEQUENCE_CORRUPT" };
  if (code <= 0 && code >= -9) return names[-code];
  return "E_UNKNOWN";
}
