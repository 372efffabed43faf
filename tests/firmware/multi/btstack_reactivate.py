# Shows an accepted upstream limitation (docs/firmware.md): on MicroPython v1.28's unix
# port with BTstack over H4, active(False) stops the HCI poll thread but leaves the UART
# open (BTstack's power-off never reaches the transport's close). The next active(True)
# finds the UART "already open", starts no poll thread, and waits forever for a stack
# that is never polled (its init timeout is a BTstack timer, so it never fires either).
# Shown without the hang: the pty's file descriptor outlives active(False), the thread
# does not. NimBLE closes the UART and joins the thread.
# multitest-skip: virtual@0, micropython-nimble@0 -- records BTstack unix behaviour; instance0 must be the BTstack firmware
import os, time, bluetooth


def counts():
    return len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


def instance0():
    fds, threads = counts()
    ble = bluetooth.BLE()
    ble.active(1)
    on_fds, on_threads = counts()
    print("active: uart opened", on_fds == fds + 1, "poll thread started", on_threads == threads + 1)
    ble.active(0)
    time.sleep_ms(200)  # the poll thread sees the stack off within 1 ms
    off_fds, off_threads = counts()
    print("inactive: uart still open", off_fds == on_fds, "poll thread gone", off_threads == threads)
