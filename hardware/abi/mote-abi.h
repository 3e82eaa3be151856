/* device/ABI.md's imports in C, once for every host of the firmware: WAMR's native glue
 * (hardware/wamr/) and wasm2c's imports on the emulated Cortex-M board (hardware/mps2-an385/)
 * both call these functions after checking each (pointer, length) pair against linear memory.
 * Behind them are the drivers a board provides (board_*): only those differ between boards. */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

#include <stdbool.h>
#include <stdint.h>

#define MOTE_ENTROPY_BYTES_MAX 64 /* device/ABI.md: entropy fills at most 64 bytes per call */
#define MOTE_SLOT_COUNT 8         /* slots 0..7 exist; v1 uses 0 (identity) and 1 (sequence) */
#define MOTE_SLOT_BYTES_MAX 64    /* device/ABI.md: each slot is at most 64 bytes */
#define MOTE_LINK_RADIO 0
#define MOTE_LINK_SERIAL 1

/* Drivers a board provides. */
int board_entropy(uint8_t *out, uint32_t len);                          /* 0, or -1: no entropy */
int64_t board_now_ms(void);                                              /* monotonic ms */
int board_slot_read(int32_t slot, uint8_t *out, uint32_t cap);           /* length, -1 never written, -2 I/O */
int board_slot_write(int32_t slot, const uint8_t *data, uint32_t len);  /* 0 atomic and durable, or -1 */
int board_link_send(int32_t link, const uint8_t *data, uint32_t len);   /* 0, or -1: link down */
void board_log(int32_t level, const char *text, uint32_t len);

/* The six imports of module "env", on native buffers the binding has already bounds-checked. */
int32_t mote_entropy(uint8_t *ptr, uint32_t len);
int64_t mote_now_ms(void);
int32_t mote_storage_read(int32_t slot, uint8_t *ptr, uint32_t cap);
int32_t mote_storage_write(int32_t slot, const uint8_t *ptr, uint32_t len);
int32_t mote_link_send(int32_t link, const uint8_t *ptr, uint32_t len);
void mote_log(int32_t level, const uint8_t *ptr, uint32_t len);

/* ABI v2's boot-loader imports (docs/firmware-update.md). The C hosts have no image slots yet: they
 * answer as a board without an update slot (version 0, nothing can be written or installed), which
 * the ABI allows; the Node board emulator (hardware/emulator/boot-loader.ts) implements them. */
#define MOTE_FW_REASON_MANIFEST 5
void mote_fw_state(uint8_t *out16);
int32_t mote_fw_write(int32_t offset, const uint8_t *ptr, uint32_t len);
int32_t mote_fw_install(const uint8_t *ptr, uint32_t len);
int32_t mote_fw_confirm(void);

/* True if [ptr, ptr + len) lies inside a linear memory of memory_bytes (no overflow). */
static inline bool mote_range_ok(uint64_t memory_bytes, uint32_t ptr, uint32_t len) {
  return (uint64_t)ptr + len <= memory_bytes;
}

/* Firmware error codes (device/ABI.md "Error codes"): "E_BUSY" for -5. */
const char *mote_error_name(int64_t code);

/* Export indices of stat() (device/ABI.md "Counters"). */
enum {
  MOTE_READINGS_SIGNED = 0,
  MOTE_MESSAGES_SENT = 1,
  MOTE_RETRANSMISSIONS = 2,
  MOTE_READINGS_ACKED = 3,
  MOTE_READINGS_REJECTED = 4,
  MOTE_EXCHANGES_GAVE_UP = 5,
  MOTE_RX_MALFORMED = 6,
  MOTE_RX_DUPLICATES = 7,
  MOTE_OUTBOX_DROPPED = 8,
  MOTE_SEQUENCE_NEXT = 9,
};

#define MOTE_E_BUSY (-5)
#define MOTE_RX_BYTES_MAX 1280 /* device/ABI.md: rx_buffer() holds 1280 bytes */

#endif
