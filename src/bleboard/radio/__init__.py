"""The virtual radio: Bumble hosts talk real HCI to virtual controllers that share one air.

    LocalRadio(latency="board")           in-process air; radio.attach(name=None) -> Transport
    bleboard air --listen unix:PATH       shared air, one controller per connected process (H4)
    await open_hci(spec=None, *, radio=None) -> Transport   (bleboard.radio.transport)

Environment: BLEBOARD_HCI (a Bumble transport spec for a real controller),
BLEBOARD_AIR (unix:PATH or tcp:HOST:PORT of a shared radio), BLEBOARD_RUNTIME_DIR
(directory of the per-user default radio), BLEBOARD_AIR_IDLE_EXIT (seconds the
auto-started default radio lingers after its last board left).

Modules: controller (VirtualController), controller_commands (advertising
command checks), advertising, scanning, link (AirLink, connection-event
timing), pdus (what travels on the air), local, server, air_cmd, default,
transport, snoop, errors.
"""
