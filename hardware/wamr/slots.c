/* Flash slots as files, written atomically (temp file, fsync, rename, fsync the directory), as
 * device/ABI.md demands of storage_write. On an MCU this file is the flash driver's two-sector
 * swap; its contract is the same. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "abi.h"

extern const char *board_data_dir;

static void slot_path(char *out, size_t cap, int32_t slot, const char *suffix) {
  snprintf(out, cap, "%s/slot-%d.bin%s", board_data_dir, (int)slot, suffix);
}

int board_slot_read(int32_t slot, uint8_t *out, uint32_t cap) {
  char path[512];
  if (slot < 0 || slot > 7) return -2;
  slot_path(path, sizeof path, slot, "");
  int fd = open(path, O_RDONLY);
  if (fd < 0) return errno == ENOENT ? -1 : -2;
  uint8_t buf[256];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 0) return -2;
  for (ssize_t i = 0; i < n && (uint32_t)i < cap; i++) out[i] = buf[i];
  return (int)n; /* the slot's full length, even if cap was smaller (the firmware checks it) */
}

int board_slot_write(int32_t slot, const uint8_t *data, uint32_t len) {
  char path[512], tmp[512];
  if (slot < 0 || slot > 7 || len > 256) return -1;
  slot_path(path, sizeof path, slot, "");
  slot_path(tmp, sizeof tmp, slot, ".tmp");
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  int ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, path) != 0) return -1;
  int dir = open(board_data_dir, O_RDONLY);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return 0;
}
