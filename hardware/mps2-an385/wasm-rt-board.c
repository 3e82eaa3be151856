/* The wasm2c runtime (wasm-rt.h) as this board needs it, in place of wabt's wasm-rt-impl.c,
 * which maps guard pages, installs signal handlers and mallocs: a microcontroller has none of
 * those. Here:
 *  - linear memory is one static buffer of MOTE_LINEAR_MEMORY_BYTES, the firmware's __heap_base
 *    rounded up (the build reads it from firmware.wasm), not the 64 KiB page the module declares.
 *    The generated code bounds-checks every access against `size` (WASM_RT_MEMCHECK_SIGNAL_HANDLER
 *    is 0 on 32-bit targets), so anything above traps;
 *  - memory never grows (the module has no memory.grow; a request fails);
 *  - a trap longjmps to the board's handler (main.c), which logs it and reboots the firmware;
 *  - function types live in a small static table. */
#include <stdarg.h>
#include <string.h>
#include "wasm-rt.h"
#include "board.h"

#ifndef MOTE_LINEAR_MEMORY_BYTES
#error "build with -DMOTE_LINEAR_MEMORY_BYTES=<__heap_base rounded up>"
#endif
#define PAGE_BYTES 65536u
#define FUNC_TYPES_MAX 32
#define FUNC_TYPE_VALUES_MAX 12

_Static_assert(WASM_RT_MEMCHECK_SIGNAL_HANDLER == 0, "explicit bounds checks: no guard pages here");
_Static_assert(MOTE_LINEAR_MEMORY_BYTES <= PAGE_BYTES, "the firmware declares one page");

uint32_t wasm_rt_call_stack_depth;
static uint8_t linear_memory[MOTE_LINEAR_MEMORY_BYTES] __attribute__((aligned(8)));
static bool initialized;
static jmp_buf *unwind_target;

typedef struct {
  uint8_t params, results;
  wasm_rt_type_t types[FUNC_TYPE_VALUES_MAX];
} FuncType;
static FuncType func_types[FUNC_TYPES_MAX];
static uint32_t func_type_count;

void wasm_rt_init(void) {
  initialized = true;
}

bool wasm_rt_is_initialized(void) {
  return initialized;
}

void wasm_rt_free(void) {
}

void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) {
  unwind_target = target;
}

WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) {
  return unwind_target;
}

void wasm_rt_trap(wasm_rt_trap_t code) {
  wasm_rt_call_stack_depth = 0;
  if (unwind_target) longjmp(*unwind_target, (int)code);
  board_fault("wasm trap outside any firmware call");
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    default: return "trap";
  }
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  FuncType t = { (uint8_t)params, (uint8_t)results, { 0 } };
  if (params + results > FUNC_TYPE_VALUES_MAX) board_fault("function type too large for the board runtime");
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; i++) t.types[i] = (wasm_rt_type_t)va_arg(ap, int);
  va_end(ap);
  for (uint32_t i = 0; i < func_type_count; i++)
    if (memcmp(&func_types[i], &t, sizeof t) == 0) return i;
  if (func_type_count == FUNC_TYPES_MAX) board_fault("too many function types for the board runtime");
  func_types[func_type_count] = t;
  return func_type_count++;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  if (initial_pages != 1 || max_pages != 1) board_fault("firmware memory must be exactly one page (device/ABI.md)");
  memset(linear_memory, 0, sizeof linear_memory); /* a fresh instance, as at power-on */
  memory->data = linear_memory;
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  memory->size = MOTE_LINEAR_MEMORY_BYTES;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t pages) {
  (void)memory;
  (void)pages;
  return 0xffffffffu;
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) {
  (void)memory;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements) {
  (void)table, (void)elements, (void)max_elements;
  board_fault("the firmware has no tables");
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) {
  (void)table;
}
