/* The mps2-an385 board layer: its drivers (SysTick, CMSDK UART0, semihosting) and the services
 * main.c builds on them. The device/ABI.md drivers (board_*) are declared in ../abi/mote-abi.h. */
#ifndef MOTE_BOARD_H
#define MOTE_BOARD_H

#include <stdint.h>

/* SysTick at the 25 MHz system clock: a 1 ms tick, and a finer clock for measurements. */
#define BOARD_CPU_HZ 25000000u
void systick_start(void);
uint32_t systick_ms(void);
uint64_t systick_ns(void); /* ns since boot; under qemu -icount shift=0, one ns is one instruction */

/* UART0 (CMSDK APB UART at 0x40004000): the serial link, SLIP-framed CoAP. */
void uart_start(uint32_t baud);
void uart_write(const uint8_t *data, uint32_t len);
uint32_t uart_take(uint8_t *out, uint32_t cap); /* received bytes buffered by the RX interrupt */

/* Semihosting (ARM's debug-host calls; qemu -semihosting-config enable=on,target=native). */
int semihost_open(const char *path, int mode); /* modes: 3 "r+b", 7 "w+b"; -1 on failure */
int semihost_seek(int handle, uint32_t position);
int semihost_read(int handle, uint8_t *out, uint32_t len);         /* bytes read */
int semihost_write(int handle, const uint8_t *data, uint32_t len); /* 0 when all were written */
int semihost_cmdline(char *out, uint32_t cap);
void semihost_console(const char *text, uint32_t len);
__attribute__((noreturn)) void board_exit(int code);

/* The flash region (a host file through semihosting) and the console. */
int flash_open(void);
void console_line(const char *a, const char *b);
void console_u32(const char *label, uint32_t v);
void entropy_seed(const char *hex);
__attribute__((noreturn)) void board_fault(const char *what);

uint32_t stack_high_water_bytes(void);
uint32_t stack_bytes(void);

#endif
