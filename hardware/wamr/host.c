/* mote-wamr-host: the firmware on WAMR's interpreter as a Linux "board" whose radio is a UDP
 * socket to a gateway. It boots the firmware (device/ABI.md), signs N readings, and runs the
 * firmware's timers and receive path until every reading is answered. Exit 0 when all were
 * acknowledged, 1 otherwise.
 *
 *   mote-wamr-host <firmware.wasm> <data-dir> <gateway-ipv4> <port> <readings>
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "abi.h"

#define STACK_BYTES 8192 /* WAMR's operand/frame stack for the module: not linear memory */
#define RX_BYTES_MAX 1280
#define RUN_MS_MAX 120000

const char *board_data_dir;
static int radio = -1;

int board_entropy(uint8_t *out, uint32_t len) {
  return getrandom(out, len, 0) == (ssize_t)len ? 0 : -1;
}

int64_t board_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int board_link_send(int32_t link, const uint8_t *data, uint32_t len) {
  if (link != 0) return -1; /* this board has a radio only */
  return send(radio, data, len, 0) == (ssize_t)len ? 0 : -1;
}

void board_log(int32_t level, const char *text, uint32_t len) {
  static const char *names[] = { "debug", "info", "warn", "error" };
  fprintf(stderr, "firmware %s: %.*s\n", names[level & 3], (int)len, text);
}

typedef struct {
  wasm_module_inst_t inst;
  wasm_exec_env_t env;
} Firmware;

/* Calls an export with typed arguments; a trap is a firmware bug and ends the board. */
static wasm_val_t call(Firmware *fw, const char *name, uint32_t nargs, wasm_val_t *args) {
  wasm_function_inst_t fn = wasm_runtime_lookup_function(fw->inst, name);
  wasm_val_t result = { .kind = WASM_I32, .of.i32 = 0 };
  if (!fn) {
    fprintf(stderr, "firmware has no export %s: not a device/ABI.md firmware\n", name);
    exit(2);
  }
  uint32_t nresults = wasm_func_get_result_count(fn, fw->inst);
  if (!wasm_runtime_call_wasm_a(fw->env, fn, nresults, &result, nargs, args)) {
    fprintf(stderr, "firmware trapped in %s: %s\n", name, wasm_runtime_get_exception(fw->inst));
    exit(3);
  }
  return result;
}

static int64_t stat_of(Firmware *fw, int32_t index) {
  wasm_val_t a[1] = { { .kind = WASM_I32, .of.i32 = index } };
  return call(fw, "stat", 1, a).of.i64;
}

static void print_hex(const char *label, const uint8_t *p, int n) {
  printf("%s ", label);
  for (int i = 0; i < n; i++) printf("%02x", p[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <firmware.wasm> <data-dir> <gateway-ipv4> <port> <readings>\n", argv[0]);
    return 2;
  }
  board_data_dir = argv[2];
  int readings = atoi(argv[5]);

  radio = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in gw = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[4])) };
  if (radio < 0 || inet_pton(AF_INET, argv[3], &gw.sin_addr) != 1 || connect(radio, (struct sockaddr *)&gw, sizeof gw) != 0) {
    fprintf(stderr, "cannot reach gateway %s:%s over UDP\n", argv[3], argv[4]);
    return 2;
  }

  FILE *f = fopen(argv[1], "rb");
  static uint8_t wasm[64 * 1024];
  uint32_t wasm_len = f ? (uint32_t)fread(wasm, 1, sizeof wasm, f) : 0;
  if (f) fclose(f);
  if (wasm_len == 0) {
    fprintf(stderr, "cannot read %s; build it with npm run build:device\n", argv[1]);
    return 2;
  }

  RuntimeInitArgs init = { .mem_alloc_type = Alloc_With_System_Allocator };
  char error[128];
  if (!wasm_runtime_full_init(&init) || !mote_abi_register()) return 2;
  wasm_module_t module = wasm_runtime_load(wasm, wasm_len, error, sizeof error);
  if (!module) {
    fprintf(stderr, "WAMR refused the module: %s\n", error);
    return 4;
  }
  /* No app heap: the firmware allocates nothing, so WAMR may trim memory to __heap_base. */
  Firmware fw = { .inst = wasm_runtime_instantiate(module, STACK_BYTES, 0, error, sizeof error) };
  if (!fw.inst) {
    fprintf(stderr, "WAMR could not instantiate the module: %s\n", error);
    return 4;
  }
  fw.env = wasm_runtime_create_exec_env(fw.inst, STACK_BYTES);
  wasm_memory_inst_t memory = wasm_runtime_get_default_memory(fw.inst);
  printf("linear memory %llu bytes (%llu pages of %llu)\n",
         (unsigned long long)(wasm_memory_get_cur_page_count(memory) * wasm_memory_get_bytes_per_page(memory)),
         (unsigned long long)wasm_memory_get_cur_page_count(memory), (unsigned long long)wasm_memory_get_bytes_per_page(memory));

  wasm_val_t link[1] = { { .kind = WASM_I32, .of.i32 = 0 } };
  int32_t rc = call(&fw, "init", 1, link).of.i32;
  if (rc < 0) {
    fprintf(stderr, "init failed: %s\n", mote_error_name(rc));
    return 1;
  }
  uint8_t *identity = wasm_runtime_addr_app_to_native(fw.inst, (uint64_t)call(&fw, "identity", 0, NULL).of.i32);
  print_hex("public-key", identity, 32);
  print_hex("device-id", identity + 32, 16);

  for (int i = 0; i < readings; i++) {
    wasm_val_t args[2] = { { .kind = WASM_I32, .of.i32 = i % 6 }, { .kind = WASM_F64, .of.f64 = 20.0 + i * 0.25 } };
    for (;;) {
      int64_t seq = call(&fw, "reading", 2, args).of.i64;
      if (seq >= 0) {
        printf("signed seq %lld\n", (long long)seq);
        break;
      }
      if (seq != -5) {
        fprintf(stderr, "reading failed: %s\n", mote_error_name(seq));
        return 1;
      }
      /* E_BUSY: let the exchange drain before queueing more. */
      struct pollfd p = { .fd = radio, .events = POLLIN };
      if (poll(&p, 1, 100) > 0) {
        uint8_t *rx = wasm_runtime_addr_app_to_native(fw.inst, (uint64_t)call(&fw, "rx_buffer", 0, NULL).of.i32);
        ssize_t n = recv(radio, rx, RX_BYTES_MAX, 0);
        wasm_val_t r[2] = { { .kind = WASM_I32, .of.i32 = 0 }, { .kind = WASM_I32, .of.i32 = (int32_t)(n < 0 ? 0 : n) } };
        if (n > 0) call(&fw, "receive", 2, r);
      }
      call(&fw, "tick", 0, NULL);
    }
  }

  int64_t start = board_now_ms();
  while (stat_of(&fw, 3) + stat_of(&fw, 4) < readings && board_now_ms() - start < RUN_MS_MAX) {
    int32_t wait = call(&fw, "tick", 0, NULL).of.i32;
    struct pollfd p = { .fd = radio, .events = POLLIN };
    if (poll(&p, 1, wait < 0 ? 1000 : wait) > 0) {
      uint8_t *rx = wasm_runtime_addr_app_to_native(fw.inst, (uint64_t)call(&fw, "rx_buffer", 0, NULL).of.i32);
      ssize_t n = recv(radio, rx, RX_BYTES_MAX, 0);
      if (n > 0) {
        wasm_val_t r[2] = { { .kind = WASM_I32, .of.i32 = 0 }, { .kind = WASM_I32, .of.i32 = (int32_t)n } };
        call(&fw, "receive", 2, r);
      }
    }
  }
  printf("signed %lld acked %lld rejected %lld retransmissions %lld next-seq %lld\n", (long long)stat_of(&fw, 0),
         (long long)stat_of(&fw, 3), (long long)stat_of(&fw, 4), (long long)stat_of(&fw, 2), (long long)stat_of(&fw, 9));
  int ok = stat_of(&fw, 3) == readings;
  wasm_runtime_destroy_exec_env(fw.env);
  wasm_runtime_deinstantiate(fw.inst);
  wasm_runtime_unload(module);
  wasm_runtime_destroy();
  return ok ? 0 : 1;
}
