/* device/ABI.md's imports for firmware.wasm compiled ahead of time by wasm2c: the functions the
 * generated code calls as module "env". Each (pointer, length) pair is checked against the
 * linear memory the board really gives the module, and a range outside it traps, as WAMR's
 * "*~" native signatures do; then the shared contract (mote-abi.c) runs. */
#include "firmware.h"
#include "mote-abi.h"
#include "wasm2c-env.h"

static uint8_t *checked(struct Z_env_instance_t *env, uint32_t ptr, uint32_t len) {
  if (!mote_range_ok(env->memory->size, ptr, len)) wasm_rt_trap(WASM_RT_TRAP_OOB);
  return env->memory->data + ptr;
}

u32 Z_envZ_entropy(struct Z_env_instance_t *env, u32 ptr, u32 len) {
  return (u32)mote_entropy(checked(env, ptr, len), len);
}

u64 Z_envZ_now_ms(struct Z_env_instance_t *env) {
  (void)env;
  return (u64)mote_now_ms();
}

u32 Z_envZ_storage_read(struct Z_env_instance_t *env, u32 slot, u32 ptr, u32 cap) {
  return (u32)mote_storage_read((int32_t)slot, checked(env, ptr, cap), cap);
}

u32 Z_envZ_storage_write(struct Z_env_instance_t *env, u32 slot, u32 ptr, u32 len) {
  return (u32)mote_storage_write((int32_t)slot, checked(env, ptr, len), len);
}

u32 Z_envZ_link_send(struct Z_env_instance_t *env, u32 link, u32 ptr, u32 len) {
  return (u32)mote_link_send((int32_t)link, checked(env, ptr, len), len);
}

void Z_envZ_log(struct Z_env_instance_t *env, u32 level, u32 ptr, u32 len) {
  mote_log((int32_t)level, checked(env, ptr, len), len);
}

void Z_envZ_fw_state(struct Z_env_instance_t *env, u32 ptr) {
  mote_fw_state(checked(env, ptr, 16));
}

u32 Z_envZ_fw_write(struct Z_env_instance_t *env, u32 offset, u32 ptr, u32 len) {
  return (u32)mote_fw_write((int32_t)offset, checked(env, ptr, len), len);
}

u32 Z_envZ_fw_install(struct Z_env_instance_t *env, u32 ptr, u32 len) {
  return (u32)mote_fw_install(checked(env, ptr, len), len);
}

u32 Z_envZ_fw_confirm(struct Z_env_instance_t *env) {
  (void)env;
  return (u32)mote_fw_confirm();
}
