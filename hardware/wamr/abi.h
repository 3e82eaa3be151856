/* device/ABI.md in C: the natives a board registers under module "env", and the firmware's
 * exports it calls. Shared by every board port; only the drivers behind them differ. */
#ifndef MOTE_ABI_H
#define MOTE_ABI_H

#include <stdint.h>
#include "wasm_export.h"

/* Drivers a board provides (here: Linux files, getrandom, clock_gettime, a UDP socket). */
int board_entropy(uint8_t *out, uint32_t len);
int64_t board_now_ms(void);
int board_slot_read(int32_t slot, uint8_t *out, uint32_t cap);
int board_slot_write(int32_t slot, const uint8_t *data, uint32_t len);
int board_link_send(int32_t link, const uint8_t *data, uint32_t len);
void board_log(int32_t level, const char *text, uint32_t len);

/* Registers the natives of device/ABI.md "Imports" with WAMR; call before loading the module. */
bool mote_abi_register(void);

/* Firmware error codes (device/ABI.md "Error codes"). */
const char *mote_error_name(int64_t code);

#endif
