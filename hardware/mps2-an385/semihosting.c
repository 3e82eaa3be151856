/* ARM semihosting (the "Semihosting for AArch32 and AArch64" specification): calls a debugger or
 * emulator serves on the guest's behalf, entered with BKPT 0xAB on M-profile cores. The board
 * uses it for its console (log lines), its flash file and its command line. */
#include <string.h>
#include "board.h"

enum {
  SYS_OPEN = 0x01,
  SYS_WRITE = 0x05,
  SYS_READ = 0x06,
  SYS_SEEK = 0x0a,
  SYS_GET_CMDLINE = 0x15,
  SYS_EXIT = 0x18,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

static int semihost(uint32_t op, void *args) {
  register uint32_t r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = args;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return (int)r0;
}

int semihost_open(const char *path, int mode) {
  uint32_t args[3] = { (uint32_t)path, (uint32_t)mode, (uint32_t)strlen(path) };
  return semihost(SYS_OPEN, args);
}

int semihost_seek(int handle, uint32_t position) {
  uint32_t args[2] = { (uint32_t)handle, position };
  return semihost(SYS_SEEK, args);
}

int semihost_read(int handle, uint8_t *out, uint32_t len) {
  uint32_t args[3] = { (uint32_t)handle, (uint32_t)out, len };
  int not_read = semihost(SYS_READ, args);
  return not_read < 0 ? -1 : (int)len - not_read;
}

int semihost_write(int handle, const uint8_t *data, uint32_t len) {
  uint32_t args[3] = { (uint32_t)handle, (uint32_t)data, len };
  return semihost(SYS_WRITE, args);
}

int semihost_cmdline(char *out, uint32_t cap) {
  uint32_t args[2] = { (uint32_t)out, cap };
  return semihost(SYS_GET_CMDLINE, args);
}

void semihost_console(const char *text, uint32_t len) {
  static int console = -1;
  if (console < 0) console = semihost_open(":tt", 4); /* ":tt" opened for writing: the console */
  if (console >= 0) semihost_write(console, (const uint8_t *)text, len);
}

__attribute__((noreturn)) void board_exit(int code) {
  semihost(SYS_EXIT, (void *)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR));
  for (;;) {
  }
}
