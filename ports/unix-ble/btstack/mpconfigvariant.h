// bleboard's unix board with BTstack: the "standard" unix feature set plus
// bluetooth over an H4 HCI UART named by the MICROPYBTUART environment variable.
// The Makefile in this directory's .mk file turns the stack on; this header
// only sets the feature level shared with MicroPython's own unix variants.

#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

// Resolved against the unix port directory (it is on the include path).
#include "variants/mpconfigvariant_common.h"
