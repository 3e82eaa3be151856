/* The device/ABI.md drivers of the mps2-an385 board (board_* in ../abi/mote-abi.h and
 * ../abi/flash-slots.h): serial link on UART0, time from SysTick, flash slots in a host file,
 * log lines and entropy as described below. */
#include <string.h>
#include "../abi/flash-slots.h"
#include "../abi/mote-abi.h"
#include "board.h"

/* ---- time and link ---- */

int64_t board_now_ms(void) {
  return (int64_t)systick_ms();
}

int board_link_send(int32_t link, const uint8_t *data, uint32_t len) {
  if (link != MOTE_LINK_SERIAL) return -1; /* this board has no radio */
  uart_write(data, len);
  return 0;
}

/* ---- console: semihosting, one line per call ---- */

/* A board bug (not a firmware trap): say what, and stop the emulator. */
__attribute__((noreturn)) void board_fault(const char *what) {
  console_line("board fault: ", what);
  board_exit(3);
}

void console_line(const char *a, const char *b) {
  char line[160];
  uint32_t n = 0;
  for (const char *s = a; s && *s && n < sizeof line - 1; s++) line[n++] = *s;
  for (const char *s = b; s && *s && n < sizeof line - 1; s++) line[n++] = *s;
  line[n++] = '\n';
  semihost_console(line, n);
}

void console_u32(const char *label, uint32_t v) {
  char digits[11];
  int i = 10;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  console_line(label, digits + i);
}

void board_log(int32_t level, const char *text, uint32_t len) {
  static const char *const names[] = { "debug", "info", "warn", "error" };
  char line[160];
  uint32_t n = 0;
  for (const char *s = "firmware "; *s; s++) line[n++] = *s;
  for (const char *s = names[level & 3]; *s; s++) line[n++] = *s;
  line[n++] = ':';
  line[n++] = ' ';
  for (uint32_t i = 0; i < len && n < sizeof line - 1; i++) line[n++] = text[i];
  line[n++] = '\n';
  semihost_console(line, n);
}

/* ---- flash: the slot region in a host file, "flash.bin" in the emulator's working directory.
 * qemu's mps2 boards have no persistent flash; a semihosting file survives reboots and a killed
 * emulator (each write is a write(2) on the host before the call returns). ---- */

static int flash = -1;

int flash_open(void) {
  flash = semihost_open("flash.bin", 3); /* "r+b": keep what is there */
  if (flash < 0) flash = semihost_open("flash.bin", 7); /* first boot: "w+b" creates it */
  return flash < 0 ? -1 : 0;
}

int board_flash_read(uint32_t offset, uint8_t *out, uint32_t len) {
  if (flash < 0 || offset + len > FLASH_SLOTS_REGION_BYTES || semihost_seek(flash, offset) != 0) return -1;
  int n = semihost_read(flash, out, len);
  if (n < 0) return -1;
  memset(out + n, 0xff, len - (uint32_t)n); /* past the end of the file: erased flash */
  return 0;
}

int board_flash_write(uint32_t offset, const uint8_t *data, uint32_t len) {
  if (flash < 0 || offset + len > FLASH_SLOTS_REGION_BYTES || semihost_seek(flash, offset) != 0) return -1;
  return semihost_write(flash, data, len) == 0 ? 0 : -1;
}

/* ---- entropy: a SEEDED STAND-IN, not a TRNG. mps2-an385 has no random number generator, so
 * the launcher passes 32 bytes from the host's CSPRNG on the command line at every boot and
 * this expands them with ChaCha20 (RFC 8439 §2.3, zero nonce). A real board reads its TRNG
 * here. Without a seed there is no entropy, and the firmware refuses to create an identity. */

static uint32_t chacha_key[8];
static uint32_t chacha_counter;
static int seeded;

#define ROTL(v, n) ((v) << (n) | (v) >> (32 - (n)))
#define QR(a, b, c, d) \
  a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7)

static void chacha_block(uint8_t out[64]) {
  uint32_t s[16] = { 0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u }; /* "expand 32-byte k" */
  memcpy(s + 4, chacha_key, 32);
  s[12] = chacha_counter++;
  uint32_t x[16];
  memcpy(x, s, sizeof x);
  for (int i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]), QR(x[1], x[5], x[9], x[13]), QR(x[2], x[6], x[10], x[14]), QR(x[3], x[7], x[11], x[15]);
    QR(x[0], x[5], x[10], x[15]), QR(x[1], x[6], x[11], x[12]), QR(x[2], x[7], x[8], x[13]), QR(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++) {
    uint32_t v = x[i] + s[i];
    out[4 * i] = (uint8_t)v, out[4 * i + 1] = (uint8_t)(v >> 8), out[4 * i + 2] = (uint8_t)(v >> 16), out[4 * i + 3] = (uint8_t)(v >> 24);
  }
}

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void entropy_seed(const char *hex) {
  uint8_t key[32];
  for (int i = 0; i < 32; i++) {
    int hi = hex_nibble(hex[2 * i]), lo = hi < 0 ? -1 : hex_nibble(hex[2 * i + 1]);
    if (lo < 0) return; /* not 64 hex digits: stay unseeded */
    key[i] = (uint8_t)(hi << 4 | lo);
  }
  memcpy(chacha_key, key, 32);
  chacha_counter = 0;
  seeded = 1;
}

int board_entropy(uint8_t *out, uint32_t len) {
  if (!seeded) return -1;
  uint8_t block[64];
  while (len) {
    chacha_block(block);
    uint32_t n = len < 64u ? len : 64u;
    memcpy(out, block, n);
    out += n;
    len -= n;
  }
  return 0;
}
