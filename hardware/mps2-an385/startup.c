/* Cortex-M3 reset and exception vectors for mps2-an385: copy .data from flash, clear .bss, paint
 * the stack (so the board can report its high-water mark), run main. A fault is a board bug:
 * it is logged on semihosting and the system resets, as a watchdog would. */
#include <stdint.h>
#include <string.h>
#include "board.h"

extern uint32_t __stack_bottom[], __stack_top[], __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
int main(void);
void systick_handler(void);
void uart0_rx_handler(void);

#define STACK_PAINT 0x5a5a5a5au

__attribute__((noreturn)) void reset_handler(void) {
  memcpy(__data_start, __data_load, (size_t)((uint8_t *)__data_end - (uint8_t *)__data_start));
  memset(__bss_start, 0, (size_t)((uint8_t *)__bss_end - (uint8_t *)__bss_start));
  /* Paint from the bottom up to a little below the current frame. */
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
  main();
  board_exit(1);
}

uint32_t stack_high_water_bytes(void) {
  uint32_t *p = __stack_bottom;
  while (p < __stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((uint8_t *)__stack_top - (uint8_t *)p);
}

uint32_t stack_bytes(void) {
  return (uint32_t)((uint8_t *)__stack_top - (uint8_t *)__stack_bottom);
}

__attribute__((noreturn)) static void fault_handler(void) {
  board_fault("cpu fault");
}

static void default_handler(void) {
}

/* ARMv7-M vector table: initial SP, then exceptions 1..15, then external interrupts from 0.
 * mps2-an385 wires UART0 RX to IRQ 0 (qemu hw/arm/mps2.c). */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 1])(void) = {
  (void (*)(void))__stack_top,
  reset_handler,
  fault_handler, /* NMI */
  fault_handler, /* HardFault */
  fault_handler, /* MemManage */
  fault_handler, /* BusFault */
  fault_handler, /* UsageFault */
  0, 0, 0, 0,
  default_handler, /* SVCall */
  default_handler, /* DebugMonitor */
  0,
  default_handler, /* PendSV */
  systick_handler,
  uart0_rx_handler, /* IRQ 0 */
};
