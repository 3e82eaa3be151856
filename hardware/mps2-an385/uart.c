/* UART0 of mps2-an385, a CMSDK APB UART (ARM DDI0479C; qemu hw/char/cmsdk-apb-uart.c): one
 * byte of buffer each way. The RX interrupt moves bytes into a ring; when the ring is full it
 * masks itself, the UART then holds its byte and the sender waits (qemu stops reading the host
 * side), so no byte is ever dropped for lack of room. */
#include "board.h"

#define UART0 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0 + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0 + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0 + 0x08u))
#define UART_INTSTATUS (*(volatile uint32_t *)(UART0 + 0x0cu))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0 + 0x10u))
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INTEN 8u
#define INT_RX 2u
#define NVIC_ISER0 (*(volatile uint32_t *)0xe000e100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xe000e200u)
#define UART0_RX_IRQ 0u

#define RX_RING_BYTES 512u /* a power of two */
static uint8_t rx_ring[RX_RING_BYTES];
static volatile uint32_t rx_head, rx_tail; /* head: written by the ISR; tail: by uart_take */

void uart0_rx_handler(void) {
  /* Clear first, then read: a byte landing after the last read raises the flag again. (Cleared
   * after the loop, it would erase that byte's interrupt and leave it stranded in the UART.) */
  UART_INTSTATUS = INT_RX; /* write-1-to-clear */
  while (UART_STATE & STATE_RXFULL) {
    if (rx_head - rx_tail == RX_RING_BYTES) {
      UART_CTRL = CTRL_TX_EN | CTRL_RX_EN; /* full: stop taking bytes until uart_take drains */
      break;
    }
    rx_ring[rx_head % RX_RING_BYTES] = (uint8_t)UART_DATA;
    rx_head++;
  }
}

void uart_start(uint32_t baud) {
  UART_BAUDDIV = BOARD_CPU_HZ / baud; /* ≥ 16, or the UART ignores it */
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

void uart_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (UART_STATE & STATE_TXFULL) {
    }
    UART_DATA = data[i];
  }
}

uint32_t uart_take(uint8_t *out, uint32_t cap) {
  uint32_t n = 0;
  while (n < cap && rx_tail != rx_head) {
    out[n++] = rx_ring[rx_tail % RX_RING_BYTES];
    rx_tail++;
  }
  /* Room again: take bytes (and the one the UART may be holding) by interrupt. */
  if (!(UART_CTRL & CTRL_RX_INTEN)) {
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    /* The byte the UART held arrived while RX interrupts were masked: it raised none, so pend
     * the handler by hand; it reads while RXFULL is set. */
    if (UART_STATE & STATE_RXFULL) NVIC_ISPR0 = 1u << UART0_RX_IRQ;
  }
  return n;
}

