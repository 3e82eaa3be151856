/* The crypto harness on the mps2-an385 board: device/build/harness-crypto.wasm (the firmware's
 * device/crypto/ modules behind raw-pointer exports, device/harness/crypto.ts) compiled by wasm2c through
 * the same pipeline, runtime (wasm-rt-board.c) and linker script as the firmware; this file
 * replaces main.c. It answers requests on UART0 so a host test can check the board's Ed25519
 * against node:crypto (test/hardware/board-crypto.test.ts).
 *
 * Protocol (all integers little-endian). Request:  op u8, length u16, payload[length].
 *                                        Response: op u8, status u8, length u16, payload[length].
 *   op 1 public key   seed[32]                  -> public key[32]
 *   op 2 sign         seed[32] message          -> public key[32] signature[64] instructions u32
 *   op 3 verify       key[32] signature[64] msg -> valid u8 (0/1) instructions u32
 *   op 4 verify again key[32] signature[64]     -> as op 3, over the message of the last op 2/3
 *   op 5 verify mutated  kind u8, bit u16       -> as op 3, over the key, signature and message
 *        of the last request, one of them mutated for this call only: kind 1 signature bit
 *        (bit mod 512) flipped, 2 key bit (bit mod 256), 3 message bit (bit mod 8 * length; an
 *        empty message becomes the one byte 1 << (bit mod 8)), 4 S + L in place of S. The host
 *        makes the same mutation for node:crypto; a few bytes instead of the whole message again
 *        keep the UART (qemu moves it a byte at a time, some 30 KB/s) from bounding the test.
 *   status 0 ok, 1 bad length (payload skipped), 2 trap (logged; harness re-instantiated), 3 bad op
 * "instructions" is the SysTick time of the one crypto call in ns: under qemu -icount shift=0 one
 * ns is one instruction executed. Messages live in the harness's 8 KiB scratch region after the
 * 128 bytes of key, seed and signature: at most MESSAGE_BYTES_MAX bytes. */
#include <setjmp.h>
#include <string.h>
#include "firmware.h"
#include "board.h"

#define UART_BAUD 115200u
#define SCRATCH_BYTES 8192u /* device/harness/crypto.ts SCRATCH_BYTES */
#define SEED 0u
#define KEY 32u
#define SIG 64u
#define MSG 128u
#define MESSAGE_BYTES_MAX (SCRATCH_BYTES - MSG)

enum { OP_PUBLIC_KEY = 1, OP_SIGN = 2, OP_VERIFY = 3, OP_VERIFY_AGAIN = 4, OP_VERIFY_MUTATED = 5 };
enum { FLIP_SIGNATURE = 1, FLIP_KEY = 2, FLIP_MESSAGE = 3, S_PLUS_L = 4 };

/* The group order L (RFC 8032 §5.1), little-endian. */
static const uint8_t group_order[32] = {
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
};
enum { OK = 0, BAD_LENGTH = 1, TRAPPED = 2, BAD_OP = 3 };

static Z_firmware_instance_t harness;
static wasm_rt_memory_t *memory;
static uint32_t scratch;
static jmp_buf on_trap;

static uint8_t *at(uint32_t offset) {
  return memory->data + scratch + offset;
}

static void instantiate(void) {
  Z_firmware_instantiate(&harness);
  memory = Z_firmwareZ_memory(&harness);
  scratch = Z_firmwareZ_scratch(&harness);
  if (scratch + SCRATCH_BYTES > memory->size) board_fault("harness scratch region outside linear memory");
}

/* Blocks until n bytes have arrived (into dst, or dropped when dst is null). It polls the ring
 * rather than sleeping on wfi as main.c does: qemu hands the UART over one byte at a time, and
 * waking a halted CPU for each made the 1,000-case test some 15% slower. */
static void uart_read(uint8_t *dst, uint32_t n) {
  uint8_t sink[64];
  while (n) {
    uint32_t got = dst ? uart_take(dst, n) : uart_take(sink, n < sizeof sink ? n : sizeof sink);
    if (dst) dst += got;
    n -= got;
  }
}

static void reply(uint8_t op, uint8_t status, const uint8_t *a, uint32_t an, const uint8_t *b, uint32_t bn) {
  uint32_t n = an + bn;
  uint8_t head[4] = { op, status, (uint8_t)n, (uint8_t)(n >> 8) };
  uart_write(head, sizeof head);
  if (an) uart_write(a, an);
  if (bn) uart_write(b, bn);
}

static void put_u32(uint8_t out[4], uint32_t v);

static uint32_t verify(uint32_t msg_len, uint8_t out[5]) {
  uint32_t t0 = (uint32_t)systick_ns();
  out[0] = (uint8_t)Z_firmwareZ_ed25519Verify(&harness, scratch + KEY, scratch + MSG, msg_len, scratch + SIG);
  uint32_t t1 = (uint32_t)systick_ns();
  return t1 - t0;
}

/* Verifies the held key, signature and message with one mutation (op 5), then undoes it. */
static void verify_mutated(uint8_t kind, uint32_t bit, uint32_t msg_len, uint8_t out[5]) {
  uint8_t saved[96]; /* key and signature */
  memcpy(saved, at(KEY), sizeof saved);
  uint32_t n = msg_len, byte = kind == FLIP_MESSAGE && msg_len ? bit % (8 * msg_len) / 8 : 0;
  uint8_t saved_byte = at(MSG)[byte];
  if (kind == FLIP_SIGNATURE) at(SIG)[bit % 512 / 8] ^= (uint8_t)(1u << (bit % 8));
  else if (kind == FLIP_KEY) at(KEY)[bit % 256 / 8] ^= (uint8_t)(1u << (bit % 8));
  else if (kind == FLIP_MESSAGE && msg_len) at(MSG)[byte] ^= (uint8_t)(1u << (bit % 8));
  else if (kind == FLIP_MESSAGE) at(MSG)[0] = (uint8_t)(1u << (bit % 8)), n = 1;
  else /* S_PLUS_L */ {
    uint32_t carry = 0;
    for (int i = 0; i < 32; i++) {
      carry += (uint32_t)at(SIG)[32 + i] + group_order[i];
      at(SIG)[32 + i] = (uint8_t)carry;
      carry >>= 8;
    }
  }
  put_u32(out + 1, verify(n, out));
  memcpy(at(KEY), saved, sizeof saved);
  at(MSG)[byte] = saved_byte;
}

static void put_u32(uint8_t out[4], uint32_t v) {
  out[0] = (uint8_t)v, out[1] = (uint8_t)(v >> 8), out[2] = (uint8_t)(v >> 16), out[3] = (uint8_t)(v >> 24);
}

int main(void) {
  systick_start();
  uart_start(UART_BAUD);
  console_line("board mps2-an385 harness-crypto.wasm via wasm2c", "");
  wasm_rt_init();
  Z_firmware_init_module();
  wasm_rt_set_unwind_target(&on_trap);
  instantiate();
  console_u32("linear-memory-bytes ", memory->size);
  console_u32("message-bytes-max ", MESSAGE_BYTES_MAX);
  console_line("crypto harness ready", "");

  static uint8_t op;
  static uint32_t message_bytes; /* of the message in scratch; UINT32_MAX: none */
  message_bytes = UINT32_MAX;
  int trap = setjmp(on_trap);
  if (trap) { /* a harness bug: say so, answer, start a fresh instance */
    console_line("trap: ", wasm_rt_strerror((wasm_rt_trap_t)trap));
    instantiate();
    message_bytes = UINT32_MAX;
    reply(op, TRAPPED, 0, 0, 0, 0);
  }
  for (;;) {
    uint8_t head[3];
    uart_read(head, sizeof head);
    op = head[0];
    uint32_t len = (uint32_t)head[1] | (uint32_t)head[2] << 8;
    uint8_t out[4];
    uint32_t t0, t1;
    switch (op) {
      case OP_PUBLIC_KEY:
        if (len != 32) goto bad_length;
        uart_read(at(SEED), 32);
        Z_firmwareZ_ed25519PublicKey(&harness, scratch + SEED, scratch + KEY);
        reply(op, OK, at(KEY), 32, 0, 0);
        break;
      case OP_SIGN:
        if (len < 32 || len - 32 > MESSAGE_BYTES_MAX) goto bad_length;
        uart_read(at(SEED), 32);
        message_bytes = UINT32_MAX;
        uart_read(at(MSG), len - 32);
        message_bytes = len - 32;
        Z_firmwareZ_ed25519PublicKey(&harness, scratch + SEED, scratch + KEY);
        t0 = (uint32_t)systick_ns();
        Z_firmwareZ_ed25519Sign(&harness, scratch + SEED, scratch + KEY, scratch + MSG, message_bytes, scratch + SIG);
        t1 = (uint32_t)systick_ns();
        put_u32(out, t1 - t0);
        reply(op, OK, at(KEY), 96, out, 4); /* key and signature are adjacent */
        break;
      case OP_VERIFY:
      case OP_VERIFY_AGAIN: {
        uint32_t msg_len = op == OP_VERIFY ? len - 96 : message_bytes;
        if (len < 96 || (op == OP_VERIFY ? len - 96 > MESSAGE_BYTES_MAX : len != 96 || message_bytes == UINT32_MAX)) goto bad_length;
        uart_read(at(KEY), 96);
        if (op == OP_VERIFY) {
          message_bytes = UINT32_MAX;
          uart_read(at(MSG), msg_len);
          message_bytes = msg_len;
        }
        uint8_t valid[5];
        put_u32(valid + 1, verify(msg_len, valid));
        reply(op, OK, valid, 5, 0, 0);
        break;
      }
      case OP_VERIFY_MUTATED: {
        uint8_t spec[3], valid[5];
        if (len != 3 || message_bytes == UINT32_MAX) goto bad_length;
        uart_read(spec, 3);
        if (spec[0] < FLIP_SIGNATURE || spec[0] > S_PLUS_L) {
          reply(op, BAD_OP, 0, 0, 0, 0);
          break;
        }
        verify_mutated(spec[0], (uint32_t)spec[1] | (uint32_t)spec[2] << 8, message_bytes, valid);
        reply(op, OK, valid, 5, 0, 0);
        break;
      }
      default:
        uart_read(0, len);
        reply(op, BAD_OP, 0, 0, 0, 0);
        break;
    }
    continue;
  bad_length:
    uart_read(0, len);
    reply(op, BAD_LENGTH, 0, 0, 0, 0);
  }
}
