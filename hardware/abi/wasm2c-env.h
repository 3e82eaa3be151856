/* The instance of module "env" that wasm2c's generated firmware calls: it only needs the
 * firmware's own linear memory, to bounds-check and translate pointers. */
#ifndef MOTE_WASM2C_ENV_H
#define MOTE_WASM2C_ENV_H

#include "wasm-rt.h"

struct Z_env_instance_t {
  wasm_rt_memory_t *memory;
};

#endif
