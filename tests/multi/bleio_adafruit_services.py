# adafruit_ble service libraries from PyPI, unchanged, over our _bleio: the client side of
# adafruit_ble_heart_rate and adafruit_ble_cycling_speed_and_cadence (PacketBuffer + set_cccd),
# adafruit_ble's DeviceInfoService and BatteryService, and Characteristic subclasses
# (string, int, float, struct) read and written both ways.
import struct
import time

try:
    from adafruit_ble import BLERadio
    from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
    from adafruit_ble.characteristics import Characteristic, StructCharacteristic
    from adafruit_ble.characteristics.float import FloatCharacteristic
    from adafruit_ble.characteristics.int import Int16Characteristic, Uint8Characteristic
    from adafruit_ble.characteristics.string import StringCharacteristic
    from adafruit_ble.services import Service
    from adafruit_ble.services.standard import BatteryService
    from adafruit_ble.services.standard.device_info import DeviceInfoService
    from adafruit_ble.uuid import StandardUUID, VendorUUID
    from adafruit_ble_cycling_speed_and_cadence import CyclingSpeedAndCadenceService
    from adafruit_ble_heart_rate import HeartRateService
except ImportError:
    print("SKIP")
    raise SystemExit from None


class HeartRateSensor(Service):
    """The sensor side of the Heart Rate service (the library only has the client side)."""

    uuid = StandardUUID(0x180D)
    measurement = Characteristic(uuid=StandardUUID(0x2A37), properties=Characteristic.NOTIFY, max_length=8)
    body_sensor_location = Uint8Characteristic(uuid=StandardUUID(0x2A38), properties=Characteristic.READ, initial_value=2)
    control_point = Uint8Characteristic(uuid=StandardUUID(0x2A39), properties=Characteristic.WRITE)


class CadenceSensor(Service):
    uuid = StandardUUID(0x1816)
    measurement = Characteristic(uuid=StandardUUID(0x2A5B), properties=Characteristic.NOTIFY, max_length=11)
    feature = Uint8Characteristic(uuid=StandardUUID(0x2A5C), properties=Characteristic.READ, initial_value=3)
    location = Uint8Characteristic(uuid=StandardUUID(0x2A5D), properties=Characteristic.READ, initial_value=5)
    control = Characteristic(uuid=StandardUUID(0x2A39), properties=Characteristic.WRITE)


class Gadget(Service):
    RW = Characteristic.READ | Characteristic.WRITE
    uuid = VendorUUID("51ad213f-e568-4e35-84e4-67af89c79ef0")
    label = StringCharacteristic(uuid=VendorUUID("51ad213f-e568-4e35-84e4-67af89c79ef1"), initial_value="gadget", properties=RW)
    offset = Int16Characteristic(uuid=VendorUUID("51ad213f-e568-4e35-84e4-67af89c79ef2"), initial_value=-5, properties=RW)
    gain = FloatCharacteristic(uuid=VendorUUID("51ad213f-e568-4e35-84e4-67af89c79ef3"), initial_value=1.5, properties=RW)
    pair = StructCharacteristic("<HH", uuid=VendorUUID("51ad213f-e568-4e35-84e4-67af89c79ef4"), initial_value=(1, 2), properties=RW)


def poll(fn, timeout=10):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = fn()
        if v is not None:
            return v
        time.sleep(0.01)
    return None


# Peripheral: the sensors.
def instance0():
    ble = BLERadio()
    hr = HeartRateSensor()
    csc = CadenceSensor()
    gadget = Gadget()
    battery = BatteryService()
    battery.level = 87
    _device_info = DeviceInfoService(  # kept alive until the test ends
        manufacturer="bleboard", model_number="virtual-1", software_revision="1.0", serial_number="0001")
    adv = ProvideServicesAdvertisement(hr)
    ble.start_advertising(adv)
    multitest.next()
    poll(lambda: ble.connected or None)
    multitest.wait("subscribed")
    hr.measurement = bytes((0x16, 72, 0x00, 0x04))  # uint8 bpm, contact, one RR interval
    csc.measurement = struct.pack("<BLHHH", 3, 1000, 2048, 50, 1024)
    multitest.wait("written")
    print("gadget", gadget.label, gadget.offset, gadget.gain, gadget.pair, "control", hr.control_point)
    poll(lambda: (not ble.connected) or None)
    print("done")


# Central: the library clients.
def instance1():
    ble = BLERadio()
    multitest.next()
    conn = None
    for adv in ble.start_scan(ProvideServicesAdvertisement, timeout=10):
        if HeartRateService in adv.services:
            conn = ble.connect(adv)
            break
    ble.stop_scan()
    hr = conn[HeartRateService]
    csc = conn[CyclingSpeedAndCadenceService]
    print("hr location", hr.location, "csc location", csc.location)
    print("first values", hr.measurement_values, csc.measurement_values)  # subscribes; nothing yet
    multitest.broadcast("subscribed")
    print("hr", poll(lambda: hr.measurement_values))
    print("csc", poll(lambda: csc.measurement_values))
    info = conn[DeviceInfoService]
    print("info", info.manufacturer, info.model_number, info.software_revision)
    print("battery", conn[BatteryService].level)
    gadget = conn[Gadget]
    print("gadget", gadget.label, gadget.offset, gadget.gain, gadget.pair)
    gadget.label = "renamed"
    gadget.offset = 300
    gadget.gain = -0.25
    gadget.pair = (7, 8)
    hr.heart_rate_control_point = 1
    print("read back", gadget.label, gadget.offset, gadget.gain, gadget.pair)
    multitest.broadcast("written")
    time.sleep(0.5)
    conn.disconnect()
