/* device/ABI.md's persistent slots on a raw flash region: board_slot_read/board_slot_write for
 * boards whose flash is a byte range rather than a file system. */
#ifndef MOTE_FLASH_SLOTS_H
#define MOTE_FLASH_SLOTS_H

#include <stdint.h>

/* The flash driver beneath: byte offsets into the slot region. board_flash_write returns only
 * when the bytes are durable; a write cut short may leave any mix of old and new bytes. */
int board_flash_read(uint32_t offset, uint8_t *out, uint32_t len);         /* 0 or -1 */
int board_flash_write(uint32_t offset, const uint8_t *data, uint32_t len);  /* 0 or -1 */

#define FLASH_SLOT_RECORD_BYTES 80u
/* Two records (copies A and B) per slot, for MOTE_SLOT_COUNT slots. */
#define FLASH_SLOTS_REGION_BYTES (2u * 8u * FLASH_SLOT_RECORD_BYTES)

#endif
