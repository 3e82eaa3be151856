/* Atomic slots on flash that may be cut off mid-write (power loss; the emulator killed).
 *
 * Each slot owns two records, A and B. A record is
 *   magic u32 | generation u32 | slot u8 | length u8 | reserved u16 | data[64] | crc32 u32
 * (little-endian; the CRC-32/ISO-HDLC covers everything before it). A read takes the valid
 * record with the higher generation. A write puts generation + 1 into the *other* record, so the
 * newest valid record is never touched: a write cut short leaves a record whose CRC fails, and
 * the slot reads as its previous value. After a complete write the slot reads as the new value.
 * That is device/ABI.md's "old or new bytes, never a mix". */
#include <string.h>
#include "flash-slots.h"
#include "mote-abi.h"

#define RECORD_MAGIC 0x544c534du /* "MSLT" */
#define HEADER_BYTES 12u
#define CRC_OFFSET (HEADER_BYTES + MOTE_SLOT_BYTES_MAX)

_Static_assert(CRC_OFFSET + 4 == FLASH_SLOT_RECORD_BYTES, "record layout");
_Static_assert(MOTE_SLOT_COUNT == 8, "FLASH_SLOTS_REGION_BYTES assumes 8 slots");

typedef struct {
  uint8_t bytes[FLASH_SLOT_RECORD_BYTES];
  uint32_t generation;
  uint32_t length;
  int valid;
} Record;

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* CRC-32/ISO-HDLC (zlib's crc32), bitwise: 80 bytes per slot write, no table in flash. */
static uint32_t crc32(const uint8_t *p, uint32_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static uint32_t record_offset(int32_t slot, int copy) {
  return ((uint32_t)slot * 2u + (uint32_t)copy) * FLASH_SLOT_RECORD_BYTES;
}

/* Returns -1 on an I/O error; an unreadable or torn record is simply not valid. */
static int load_record(int32_t slot, int copy, Record *r) {
  r->valid = 0;
  if (board_flash_read(record_offset(slot, copy), r->bytes, FLASH_SLOT_RECORD_BYTES) != 0) return -1;
  const uint8_t *b = r->bytes;
  r->generation = get_u32(b + 4);
  r->length = b[9];
  r->valid = get_u32(b) == RECORD_MAGIC && b[8] == (uint8_t)slot && r->length <= MOTE_SLOT_BYTES_MAX &&
             get_u32(b + CRC_OFFSET) == crc32(b, CRC_OFFSET);
  return 0;
}

/* Which copy holds the slot's current value: 0 or 1, or -1 if neither is valid. */
static int newest(const Record *a, const Record *b) {
  if (a->valid && b->valid) return b->generation > a->generation ? 1 : 0;
  if (a->valid) return 0;
  if (b->valid) return 1;
  return -1;
}

/* Both copies of one slot; static (the board has one thread), not on the stack. */
static Record r[2];

int board_slot_read(int32_t slot, uint8_t *out, uint32_t cap) {
  if (slot < 0 || slot >= MOTE_SLOT_COUNT) return -2;
  if (load_record(slot, 0, &r[0]) != 0 || load_record(slot, 1, &r[1]) != 0) return -2;
  int current = newest(&r[0], &r[1]);
  if (current < 0) return -1;
  uint32_t n = r[current].length < cap ? r[current].length : cap;
  memcpy(out, r[current].bytes + HEADER_BYTES, n);
  return (int)r[current].length;
}

int board_slot_write(int32_t slot, const uint8_t *data, uint32_t len) {
  if (slot < 0 || slot >= MOTE_SLOT_COUNT || len > MOTE_SLOT_BYTES_MAX) return -1;
  if (load_record(slot, 0, &r[0]) != 0 || load_record(slot, 1, &r[1]) != 0) return -1;
  int current = newest(&r[0], &r[1]);
  int target = current == 0 ? 1 : 0;
  uint32_t generation = current < 0 ? 1u : r[current].generation + 1u;
  uint8_t *b = r[target].bytes;
  memset(b, 0xff, FLASH_SLOT_RECORD_BYTES);
  put_u32(b, RECORD_MAGIC);
  put_u32(b + 4, generation);
  b[8] = (uint8_t)slot;
  b[9] = (uint8_t)len;
  b[10] = b[11] = 0;
  memcpy(b + HEADER_BYTES, data, len);
  put_u32(b + CRC_OFFSET, crc32(b, CRC_OFFSET));
  return board_flash_write(record_offset(slot, target), b, FLASH_SLOT_RECORD_BYTES);
}
