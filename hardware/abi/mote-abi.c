/* The contract of device/ABI.md "Imports", enforced once for every host: argument limits, return
 * codes normalised to what the firmware expects, time that never goes backwards. The bindings
 * (WAMR natives, wasm2c imports) have already checked that every pointer range lies inside the
 * module's linear memory. */
#include "mote-abi.h"

int32_t mote_entropy(uint8_t *ptr, uint32_t len) {
  if (len > MOTE_ENTROPY_BYTES_MAX) return -1;
  return board_entropy(ptr, len) == 0 ? 0 : -1;
}

int64_t mote_now_ms(void) {
  /* "never decreases": a driver whose clock steps back is clamped, not trusted. */
  static int64_t last_ms = 0;
  int64_t now = board_now_ms();
  if (now < last_ms) now = last_ms;
  last_ms = now;
  return now;
}

int32_t mote_storage_read(int32_t slot, uint8_t *ptr, uint32_t cap) {
  if (slot < 0 || slot >= MOTE_SLOT_COUNT) return -2;
  int n = board_slot_read(slot, ptr, cap);
  if (n == -1) return -1;
  if (n < 0 || n > MOTE_SLOT_BYTES_MAX) return -2;
  return n; /* the slot's full length, even if cap was smaller (the firmware checks it) */
}

int32_t mote_storage_write(int32_t slot, const uint8_t *ptr, uint32_t len) {
  if (slot < 0 || slot >= MOTE_SLOT_COUNT || len > MOTE_SLOT_BYTES_MAX) return -1;
  return board_slot_write(slot, ptr, len) == 0 ? 0 : -1;
}

int32_t mote_link_send(int32_t link, const uint8_t *ptr, uint32_t len) {
  if (link != MOTE_LINK_RADIO && link != MOTE_LINK_SERIAL) return -1;
  return board_link_send(link, ptr, len) == 0 ? 0 : -1;
}

void mote_log(int32_t level, const uint8_t *ptr, uint32_t len) {
  board_log(level < 0 ? 0 : level > 3 ? 3 : level, (const char *)ptr, len);
}

void mote_fw_state(uint8_t *out16) {
  for (int i = 0; i < 16; i++) out16[i] = 0; /* version 0, not on trial, no failed attempt */
}

int32_t mote_fw_write(int32_t offset, const uint8_t *ptr, uint32_t len) {
  (void)offset; (void)ptr; (void)len;
  return -1; /* no update slot */
}

int32_t mote_fw_install(const uint8_t *ptr, uint32_t len) {
  (void)ptr; (void)len;
  return -MOTE_FW_REASON_MANIFEST;
}

int32_t mote_fw_confirm(void) {
  return -1; /* never on trial */
}

const char *mote_error_name(int64_t code) {
  static const char *const names[] = { "OK", "E_NOT_INITIALIZED", "E_ENTROPY", "E_STORAGE", "E_IDENTITY_CORRUPT",
    "E_BUSY", "E_BAD_ARGUMENT", "E_LINK", "E_MALFORMED", "E_SEQUENCE_CORRUPT" };
  if (code <= 0 && code >= -9) return names[-code];
  return "E_UNKNOWN";
}
