/* device/ABI.md on WAMR's embedding API: the natives a WAMR host registers under module "env".
 * The contract itself is hardware/abi/mote-abi.c, shared with the wasm2c board; this file only
 * binds it to WAMR. A board port links abi.c, ../abi/mote-abi.c and its own board_* drivers. */
#ifndef MOTE_WAMR_ABI_H
#define MOTE_WAMR_ABI_H

#include <stdbool.h>
#include "wasm_export.h"
#include "../abi/mote-abi.h"

/* Registers the natives of device/ABI.md "Imports" with WAMR; call before loading the module. */
bool mote_abi_register(void);

#endif
