/* SysTick, the Cortex-M core timer, clocked by the processor clock (25 MHz on mps2-an385):
 * interrupts every millisecond; between interrupts the down-counter gives 40 ns steps. */
#include "board.h"

#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE_CPU 4u
#define TICKS_PER_MS (BOARD_CPU_HZ / 1000u)
#define NS_PER_TICK (1000000000u / BOARD_CPU_HZ)

static volatile uint32_t ms_since_boot;

void systick_handler(void) {
  ms_since_boot++;
}

void systick_start(void) {
  SYST_RVR = TICKS_PER_MS - 1u;
  SYST_CVR = 0;
  SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU;
}

uint32_t systick_ms(void) {
  return ms_since_boot;
}

uint64_t systick_ns(void) {
  uint32_t ms, cvr;
  do { /* a tick between the two reads would pair a new count with an old millisecond */
    ms = ms_since_boot;
    cvr = SYST_CVR;
  } while (ms != ms_since_boot);
  return (uint64_t)ms * 1000000u + (uint64_t)(TICKS_PER_MS - 1u - cvr) * NS_PER_TICK;
}
