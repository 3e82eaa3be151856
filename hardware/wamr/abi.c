/* The natives of device/ABI.md on WAMR. WAMR checks every (pointer, length) pair declared as
 * "*~" against the module's linear memory before the call, so the shared contract
 * (../abi/mote-abi.c) only ever sees valid native buffers. */
#include "abi.h"

static int32_t entropy(wasm_exec_env_t env, uint8_t *ptr, uint32_t len) {
  (void)env;
  return mote_entropy(ptr, len);
}

static int64_t now_ms(wasm_exec_env_t env) {
  (void)env;
  return mote_now_ms();
}

static int32_t storage_read(wasm_exec_env_t env, int32_t slot, uint8_t *ptr, uint32_t cap) {
  (void)env;
  return mote_storage_read(slot, ptr, cap);
}

static int32_t storage_write(wasm_exec_env_t env, int32_t slot, uint8_t *ptr, uint32_t len) {
  (void)env;
  return mote_storage_write(slot, ptr, len);
}

static int32_t link_send(wasm_exec_env_t env, int32_t link, uint8_t *ptr, uint32_t len) {
  (void)env;
  return mote_link_send(link, ptr, len);
}

static void log_line(wasm_exec_env_t env, int32_t level, uint8_t *ptr, uint32_t len) {
  (void)env;
  mote_log(level, ptr, len);
}

static void fw_state(wasm_exec_env_t env, int32_t ptr) {
  /* A bare pointer: WAMR checks "*~" pairs only, so the 16 bytes are checked here. */
  wasm_module_inst_t inst = wasm_runtime_get_module_inst(env);
  if (!wasm_runtime_validate_app_addr(inst, (uint64_t)(uint32_t)ptr, 16)) return;
  mote_fw_state(wasm_runtime_addr_app_to_native(inst, (uint64_t)(uint32_t)ptr));
}

static int32_t fw_write(wasm_exec_env_t env, int32_t offset, uint8_t *ptr, uint32_t len) {
  (void)env;
  return mote_fw_write(offset, ptr, len);
}

static int32_t fw_install(wasm_exec_env_t env, uint8_t *ptr, uint32_t len) {
  (void)env;
  return mote_fw_install(ptr, len);
}

static int32_t fw_confirm(wasm_exec_env_t env) {
  (void)env;
  return mote_fw_confirm();
}

/* Signatures in WAMR's notation: i = i32, I = i64, * = pointer, ~ = length of the preceding pointer. */
static NativeSymbol natives[] = {
  { "entropy", entropy, "(*~)i", NULL },
  { "now_ms", now_ms, "()I", NULL },
  { "storage_read", storage_read, "(i*~)i", NULL },
  { "storage_write", storage_write, "(i*~)i", NULL },
  { "link_send", link_send, "(i*~)i", NULL },
  { "log", log_line, "(i*~)", NULL },
  { "fw_state", fw_state, "(i)", NULL },
  { "fw_write", fw_write, "(i*~)i", NULL },
  { "fw_install", fw_install, "(*~)i", NULL },
  { "fw_confirm", fw_confirm, "()i", NULL },
};

bool mote_abi_register(void) {
  return wasm_runtime_register_natives("env", natives, sizeof(natives) / sizeof(natives[0]));
}
