// The unix port has no mpbthciport.h of its own, yet BTstack's H4 UART glue
// (extmod/btstack/btstack_hci_uart.c) includes one for a single hook: "poll the
// HCI UART soon". On unix a background thread already schedules that poll every
// millisecond (ports/unix/mpbthciport.c), so the hook has nothing to add.
// This directory is on the include path as the build's variant directory.
#ifndef BLEBOARD_UNIX_BLE_MPBTHCIPORT_H
#define BLEBOARD_UNIX_BLE_MPBTHCIPORT_H

static inline void mp_bluetooth_hci_poll_now(void) {
}

#endif
