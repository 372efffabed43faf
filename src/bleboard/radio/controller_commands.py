"""HCI advertising commands of the virtual controller, checked as a real controller checks them.

Kept apart from controller.py so each file holds one idea: this one is the
host-facing contract for legacy advertising and extended advertising sets
(Vol 4, Part E, 7.8.5-7.8.9 and 7.8.52-7.8.60): which parameters are
refused with which status, and when a set starts or stops.
"""

from __future__ import annotations

from bumble import hci

from bleboard.radio import pdus
from bleboard.radio.advertising import AirAdvertisingSet

E = hci.HCI_ErrorCode
_Props = hci.HCI_LE_Set_Extended_Advertising_Parameters_Command.AdvertisingProperties
_Op = hci.HCI_LE_Set_Extended_Advertising_Data_Command.Operation
_LegacyType = hci.HCI_LE_Set_Advertising_Parameters_Command.AdvertisingType

MAX_LEGACY_DATA = 31
MAX_EXTENDED_DATA = 0x0672  # what LE Read Maximum Advertising Data Length reports
MAX_ADVERTISING_HANDLE = 0xEF


def _status(code: int) -> hci.HCI_StatusReturnParameters:
    return hci.HCI_StatusReturnParameters(code)


def _set_supports_data(advertising_set: AirAdvertisingSet) -> bool:
    """Directed legacy PDUs and scannable extended PDUs carry no advertising data."""
    props = advertising_set.properties
    if advertising_set.legacy:
        return pdus.legacy_type_from_properties(props) != pdus.ADV_DIRECT_IND
    return not props & _Props.SCANNABLE_ADVERTISING


def _set_supports_scan_response(advertising_set: AirAdvertisingSet) -> bool:
    return bool(advertising_set.properties & _Props.SCANNABLE_ADVERTISING)


class AdvertisingCommands:
    """Mixin for VirtualController: legacy advertising and extended advertising sets."""

    # ---------------------------------------------------------------- legacy
    def on_hci_le_set_advertising_parameters_command(self, command):
        if self.le_legacy_advertiser.enabled:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        if command.advertising_type > _LegacyType.ADV_DIRECT_IND_LOW_DUTY or command.own_address_type > 3:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if command.advertising_type != _LegacyType.ADV_DIRECT_IND:  # high duty ignores the interval
            if not 0x20 <= command.advertising_interval_min <= command.advertising_interval_max <= 0x4000:
                return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if command.advertising_channel_map & 0x07 == 0:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        return super().on_hci_le_set_advertising_parameters_command(command)

    def on_hci_le_set_advertising_enable_command(self, command):
        advertiser = self.le_legacy_advertiser
        if not command.advertising_enable:
            advertiser.stop()
            return _status(E.SUCCESS)
        if advertiser.enabled:
            return _status(E.SUCCESS)
        if self._needs_missing_random_address(advertiser.own_address_type):
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        advertiser.start()
        return _status(E.SUCCESS)

    # ---------------------------------------------------------------- extended sets
    def _advertising_set(self, handle: int) -> AirAdvertisingSet:
        advertising_set = self.advertising_sets.get(handle)
        if advertising_set is None:
            advertising_set = AirAdvertisingSet(controller=self, handle=handle)
            self.advertising_sets[handle] = advertising_set
        return advertising_set

    def on_hci_le_set_advertising_set_random_address_command(self, command):
        if command.advertising_handle > MAX_ADVERTISING_HANDLE:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        advertising_set = self._advertising_set(command.advertising_handle)
        if advertising_set.enabled and advertising_set.properties & _Props.CONNECTABLE_ADVERTISING:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        advertising_set.random_address = command.random_address
        return _status(E.SUCCESS)

    def on_hci_le_set_extended_advertising_parameters_command(self, command):
        def refuse(code):
            return hci.HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters(status=code, selected_tx_power=0)

        handle = command.advertising_handle
        props = int(command.advertising_event_properties)
        if handle > MAX_ADVERTISING_HANDLE or command.own_address_type > 3:
            return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
        existing = self.advertising_sets.get(handle)
        if existing is not None and existing.enabled:
            return refuse(E.COMMAND_DISALLOWED_ERROR)
        high_duty = bool(props & _Props.HIGH_DUTY_CYCLE_DIRECTED_CONNECTABLE_ADVERTISING)
        if props & _Props.USE_LEGACY_ADVERTISING_PDUS:
            if pdus.legacy_type_from_properties(props) is None:
                return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
            if existing is not None and (len(existing.data) > 31 or len(existing.scan_response_data) > 31):
                return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
        elif props & _Props.CONNECTABLE_ADVERTISING and props & _Props.SCANNABLE_ADVERTISING:
            return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if not high_duty and not (
            0x20 <= command.primary_advertising_interval_min <= command.primary_advertising_interval_max
        ):
            return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if command.primary_advertising_channel_map & 0x07 == 0:
            return refuse(E.INVALID_COMMAND_PARAMETERS_ERROR)
        advertising_set = self._advertising_set(handle)
        advertising_set.parameters = command
        return hci.HCI_LE_Set_Extended_Advertising_Parameters_ReturnParameters(
            status=E.SUCCESS, selected_tx_power=advertising_set.selected_tx_power
        )

    def _set_data(self, command, data: bytes, scan_response: bool):
        advertising_set = self.advertising_sets.get(command.advertising_handle)
        if advertising_set is None:
            return _status(E.UNKNOWN_ADVERTISING_IDENTIFIER_ERROR)
        if advertising_set.parameters is None:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        old = advertising_set.scan_response_data if scan_response else advertising_set.data
        if command.operation in (_Op.FIRST_FRAGMENT, _Op.COMPLETE_DATA, _Op.UNCHANGED_DATA):
            new = bytearray(data) if command.operation != _Op.UNCHANGED_DATA else bytearray(old)
        else:
            new = bytearray(old) + data
        limit = MAX_LEGACY_DATA if advertising_set.legacy else MAX_EXTENDED_DATA
        if len(new) > limit:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        supported = _set_supports_scan_response(advertising_set) if scan_response else _set_supports_data(advertising_set)
        if new and not supported:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if advertising_set.legacy and command.operation not in (_Op.COMPLETE_DATA, _Op.UNCHANGED_DATA):
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        if scan_response:
            advertising_set.scan_response_data = new
        else:
            advertising_set.data = new
        return _status(E.SUCCESS)

    def on_hci_le_set_extended_advertising_data_command(self, command):
        return self._set_data(command, command.advertising_data, scan_response=False)

    def on_hci_le_set_extended_scan_response_data_command(self, command):
        return self._set_data(command, command.scan_response_data, scan_response=True)

    def on_hci_le_set_extended_advertising_enable_command(self, command):
        handles = list(command.advertising_handles)
        if not command.enable:
            if any(handle not in self.advertising_sets for handle in handles):
                return _status(E.UNKNOWN_ADVERTISING_IDENTIFIER_ERROR)
            targets = [self.advertising_sets[h] for h in handles] if handles else list(self.advertising_sets.values())
            for advertising_set in targets:
                advertising_set.stop()
            return _status(E.SUCCESS)
        if not handles:
            return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        for handle in handles:
            advertising_set = self.advertising_sets.get(handle)
            if advertising_set is None:
                return _status(E.UNKNOWN_ADVERTISING_IDENTIFIER_ERROR)
            if advertising_set.parameters is None:
                return _status(E.COMMAND_DISALLOWED_ERROR)
            if advertising_set.random_address is None and self._needs_missing_random_address(
                advertising_set.parameters.own_address_type
            ):
                return _status(E.INVALID_COMMAND_PARAMETERS_ERROR)
        for index, handle in enumerate(handles):
            durations = list(command.durations)
            max_events = list(command.max_extended_advertising_events)
            duration_s = durations[index] * 0.01 if index < len(durations) else 0.0
            events = max_events[index] if index < len(max_events) else 0
            self.advertising_sets[handle].start(duration_s, events)
        return _status(E.SUCCESS)

    def on_hci_le_remove_advertising_set_command(self, command):
        advertising_set = self.advertising_sets.get(command.advertising_handle)
        if advertising_set is None:
            return _status(E.UNKNOWN_ADVERTISING_IDENTIFIER_ERROR)
        if advertising_set.enabled:
            return _status(E.COMMAND_DISALLOWED_ERROR)
        del self.advertising_sets[command.advertising_handle]
        return _status(E.SUCCESS)

    def on_hci_le_clear_advertising_sets_command(self, _command):
        if any(s.enabled for s in self.advertising_sets.values()):
            return _status(E.COMMAND_DISALLOWED_ERROR)
        self.advertising_sets.clear()
        return _status(E.SUCCESS)

    def on_hci_le_read_number_of_supported_advertising_sets_command(self, _command):
        return hci.HCI_LE_Read_Number_Of_Supported_Advertising_Sets_ReturnParameters(
            status=E.SUCCESS, num_supported_advertising_sets=16
        )
