/* The mps2-an385 board: firmware.wasm compiled ahead of time by wasm2c, driven the way the Node
 * board emulator (hardware/emulator/board.ts) drives it: init on the serial link, a reading
 * signed every interval, received bytes handed to receive(), tick() run by its own deadline.
 * A trap is a firmware bug: it is logged and the firmware rebooted from flash, as a watchdog
 * would; its slots are untouched.
 *
 * Command line (semihosting; the launcher hardware/mps2-an385/qemu-board.ts passes it):
 *   seed=<64 hex>      entropy stand-in seed (see drivers.c); without it no identity can be made
 *   interval_ms=<n>    one reading every n ms (0: none)           default 1000
 *   readings=<n>       stop signing after n readings (0: no limit) default 0
 *   bench=<n>          sign n readings back to back, print the time of each, exit */
#include <setjmp.h>
#include <string.h>
#include "firmware.h"
#include "../abi/mote-abi.h"
#include "../abi/wasm2c-env.h"
#include "board.h"

#define UART_BAUD 115200u
#define SENSOR_COUNT 6u

typedef struct {
  uint32_t interval_ms, readings, bench;
} Config;

static Z_firmware_instance_t firmware;
static struct Z_env_instance_t env;
static jmp_buf on_trap;
static uint32_t traps;

static uint32_t parse_u32(const char *s) {
  uint32_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10u + (uint32_t)(*s++ - '0');
  return v;
}

static Config parse_cmdline(void) {
  static char cmdline[256];
  Config c = { 1000u, 0u, 0u };
  if (semihost_cmdline(cmdline, sizeof cmdline) != 0) return c;
  for (char *p = cmdline; *p;) {
    while (*p == ' ') p++;
    char *word = p;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
    if (!strncmp(word, "seed=", 5)) entropy_seed(word + 5);
    else if (!strncmp(word, "interval_ms=", 12)) c.interval_ms = parse_u32(word + 12);
    else if (!strncmp(word, "readings=", 9)) c.readings = parse_u32(word + 9);
    else if (!strncmp(word, "bench=", 6)) c.bench = parse_u32(word + 6);
  }
  return c;
}

static void console_hex(const char *label, const uint8_t *p, uint32_t n) {
  static const char digits[] = "0123456789abcdef";
  char hex[2 * 64 + 1];
  uint32_t i = 0;
  for (; i < n && i < 64; i++) hex[2 * i] = digits[p[i] >> 4], hex[2 * i + 1] = digits[p[i] & 15];
  hex[2 * i] = 0;
  console_line(label, hex);
}

/* Instantiates the module afresh (memory zeroed, data segments copied) and runs init. */
static int32_t boot_firmware(void) {
  Z_firmware_instantiate(&firmware, &env);
  env.memory = Z_firmwareZ_memory(&firmware);
  int32_t rc = (int32_t)Z_firmwareZ_init(&firmware, MOTE_LINK_SERIAL);
  if (rc < 0) {
    console_line("init failed: ", mote_error_name(rc));
    return rc;
  }
  const uint8_t *id = env.memory->data + Z_firmwareZ_identity(&firmware);
  console_hex("public-key ", id, 32);
  console_hex("device-id ", id + 32, 16);
  return 0;
}

static void sign_reading(uint32_t k) {
  uint32_t sensor = k % SENSOR_COUNT;
  double value = 20.0 + (double)(k % 40u) * 0.25; /* a plausible stand-in for a sensor */
  int64_t seq = (int64_t)Z_firmwareZ_reading(&firmware, sensor, value);
  if (seq >= 0) console_u32("signed seq ", (uint32_t)seq);
  else console_line("reading refused: ", mote_error_name(seq));
}

/* Reports answers from the gateway as console lines ("acked 3"), once per change. */
static void report_answers(void) {
  static uint32_t acked_reported, rejected_reported;
  uint32_t acked = (uint32_t)Z_firmwareZ_stat(&firmware, MOTE_READINGS_ACKED);
  uint32_t rejected = (uint32_t)Z_firmwareZ_stat(&firmware, MOTE_READINGS_REJECTED);
  if (acked != acked_reported) console_u32("acked ", acked_reported = acked);
  if (rejected != rejected_reported) console_u32("rejected ", rejected_reported = rejected);
}

static void bench(uint32_t n) {
  for (uint32_t k = 0; k < n; k++) {
    uint64_t t0 = systick_ns();
    int64_t seq = (int64_t)Z_firmwareZ_reading(&firmware, k % SENSOR_COUNT, 21.5);
    uint64_t t1 = systick_ns();
    if (seq < 0) console_line("bench reading refused: ", mote_error_name(seq));
    console_u32("bench reading ns ", (uint32_t)(t1 - t0));
    Z_firmwareZ_tick(&firmware); /* nobody answers: keep the outbox from filling */
  }
}

static void report_budget(void) {
  console_u32("linear-memory-bytes ", env.memory->size);
  console_u32("stack-bytes ", stack_bytes());
  console_u32("stack-high-water-bytes ", stack_high_water_bytes());
}

int main(void) {
  systick_start();
  uart_start(UART_BAUD);
  static Config config; /* static: main's locals do not survive the longjmp of a trap */
  config = parse_cmdline();
  console_line("board mps2-an385 firmware.wasm via wasm2c", "");
  if (flash_open() != 0) console_line("flash file unavailable: storage will fail", "");
  wasm_rt_init();
  Z_firmware_init_module();
  wasm_rt_set_unwind_target(&on_trap);

  static uint32_t signed_count, next_reading_ms, next_tick_ms;
  static int booted;
  static uint8_t rx[MOTE_RX_BYTES_MAX];
  int trap = setjmp(on_trap);
  if (trap) {
    traps++;
    console_line("trap: ", wasm_rt_strerror((wasm_rt_trap_t)trap));
    console_u32("traps ", traps);
    booted = 0;
  }
  if (!booted) {
    if (boot_firmware() != 0) board_exit(2);
    booted = 1;
    if (config.bench) {
      bench(config.bench);
      report_budget();
      board_exit(0);
    }
    report_budget();
    next_reading_ms = systick_ms() + config.interval_ms;
    next_tick_ms = 0;
  }

  for (;;) {
    uint32_t now = systick_ms();
    int woke = 0;
    uint32_t n = uart_take(rx, sizeof rx);
    if (n) {
      uint32_t at = Z_firmwareZ_rx_buffer(&firmware);
      if (!mote_range_ok(env.memory->size, at, n)) wasm_rt_trap(WASM_RT_TRAP_OOB); /* a firmware bug: reboot it */
      memcpy(env.memory->data + at, rx, n);
      Z_firmwareZ_receive(&firmware, MOTE_LINK_SERIAL, n);
      report_answers();
      next_tick_ms = now;
      woke = 1;
    }
    if (config.interval_ms && (config.readings == 0 || signed_count < config.readings) && (int32_t)(now - next_reading_ms) >= 0) {
      sign_reading(signed_count++);
      next_reading_ms += config.interval_ms;
      next_tick_ms = now;
      woke = 1;
    }
    if (next_tick_ms != UINT32_MAX && (int32_t)(now - next_tick_ms) >= 0) {
      int32_t wait = (int32_t)Z_firmwareZ_tick(&firmware);
      next_tick_ms = wait < 0 ? UINT32_MAX : now + (uint32_t)wait;
    }
    if (!woke) __asm__ volatile("wfi"); /* the next SysTick or UART byte wakes us */
  }
}
