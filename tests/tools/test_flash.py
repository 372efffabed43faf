"""`bleboard flash`: firmware checks, exact command lines per method, UF2 copy onto a fake bootloader drive.

No board is attached here: the nearest real things are the exact argv each
tool would get (dry run) and a directory that looks like a UF2 drive.
"""

import os
import shlex
import subprocess
import sys

import pytest

from bleboard.tools import boards, drives, firmware, flash

from firmware_samples import make_dfu_zip, make_dfuse, make_esp_image, make_ihex, make_uf2

NRF52840, RP2040 = 0xADA52840, 0xE48BFF56


def bleboard(*argv, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "bleboard", *argv], capture_output=True, text=True,
                          timeout=60, env=e)


def test_uf2_family_must_match(tmp_path):
    feather = boards.get("adafruit_feather_nrf52840_express")
    good = tmp_path / "good.uf2"
    good.write_bytes(make_uf2(NRF52840))
    assert firmware.check(str(good), feather) == "uf2"
    bad = tmp_path / "pico.uf2"
    bad.write_bytes(make_uf2(RP2040))
    with pytest.raises(firmware.FirmwareError, match="RP2040.*nRF52840"):
        firmware.check(str(bad), feather)
    torn = tmp_path / "torn.uf2"
    torn.write_bytes(make_uf2(NRF52840)[:-100])
    with pytest.raises(firmware.FirmwareError, match="multiple of 512"):
        firmware.check(str(torn), feather)
    broken = bytearray(make_uf2(NRF52840))
    broken[512 + 508] ^= 0xFF  # end magic of block 1
    torn.write_bytes(bytes(broken))
    with pytest.raises(firmware.FirmwareError, match="block 1 has bad UF2 magic"):
        firmware.check(str(torn), feather)


def test_esp_image_chip_must_match(tmp_path):
    s3 = boards.get("esp32_s3_devkitc_1_n8")
    img = tmp_path / "fw.bin"
    img.write_bytes(make_esp_image(9))
    assert firmware.check(str(img), s3) == "esp-image"
    img.write_bytes(make_esp_image(5))
    with pytest.raises(firmware.FirmwareError, match="esp32c3.*esp32s3"):
        firmware.check(str(img), s3)
    img.write_bytes(b"\x00" * 64)
    with pytest.raises(firmware.FirmwareError, match="not an ESP image"):
        firmware.check(str(img), s3)


def test_intel_hex_checked(tmp_path):
    dk = boards.get("pca10056_nrf52840_dk")
    hx = tmp_path / "fw.hex"
    hx.write_bytes(make_ihex(0x00001000))
    assert firmware.check(str(hx), dk) == "ihex"
    hx.write_bytes(make_ihex(0x08000000))  # an STM32 image
    with pytest.raises(firmware.FirmwareError, match="outside nrf52840's flash"):
        firmware.check(str(hx), dk)
    text = make_ihex(0x1000).decode().splitlines()
    text[1] = text[1][:-2] + ("00" if text[1][-2:] != "00" else "01")
    hx.write_text("\n".join(text))
    with pytest.raises(firmware.FirmwareError, match="line 2: checksum"):
        firmware.check(str(hx), dk)
    hx.write_text("\n".join(make_ihex(0x1000).decode().splitlines()[:-1]))
    with pytest.raises(firmware.FirmwareError, match="no end-of-file"):
        firmware.check(str(hx), dk)


def test_dfu_zip_and_dfuse(tmp_path):
    z = tmp_path / "fw.zip"
    make_dfu_zip(z)
    assert firmware.check(str(z), boards.get("pca10059_nrf52840_dongle")) == "dfu-zip"
    make_dfu_zip(z, with_manifest=False)
    with pytest.raises(firmware.FirmwareError, match="no manifest.json"):
        firmware.check(str(z), boards.get("pca10059_nrf52840_dongle"))
    d = tmp_path / "fw.dfu"
    d.write_bytes(make_dfuse())
    assert firmware.check(str(d), boards.get("pyboardv1_1")) == "dfuse"
    d.write_bytes(make_dfuse()[:-1] + b"\x00")
    with pytest.raises(firmware.FirmwareError, match="CRC"):
        firmware.check(str(d), boards.get("pyboardv1_1"))


def dry_run(capsys, board, path, *extra):
    """The dry run's printed command, split as a shell would (in-process: same CLI code, no interpreter start)."""
    from bleboard import cli

    capsys.readouterr()
    rc = cli.main(["flash", "--board", board, str(path), "--dry-run", *extra])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return shlex.split(out.strip())


def test_exact_command_lines(tmp_path, capsys):
    esp = tmp_path / "fw.bin"
    esp.write_bytes(make_esp_image(9))
    write = flash._esptool_write_cmd()
    assert dry_run(capsys, "esp32_s3_devkitc_1_n8", esp, "--port", "/dev/ttyUSB0") == [
        sys.executable, "-m", "esptool", "--chip", "esp32s3", "--port", "/dev/ttyUSB0",
        "--baud", "460800", write, "0x0", str(esp)]
    esp32 = tmp_path / "esp32.bin"  # the original ESP32 keeps 0x0-0x1000 for its ROM: images start at 0x1000
    esp32.write_bytes(make_esp_image(0))
    assert dry_run(capsys, "ESP32_GENERIC", esp32, "--port", "/dev/ttyUSB0")[-2:] == ["0x1000", str(esp32)]
    c3 = tmp_path / "c3.bin"
    c3.write_bytes(make_esp_image(5))
    assert dry_run(capsys, "ESP32_GENERIC_C3", c3)[-2:] == ["0x0", str(c3)]
    h2 = tmp_path / "h2.bin"
    h2.write_bytes(make_esp_image(16))
    assert dry_run(capsys, "esp32_h2_devkitm_1", h2)[3:5] == ["--chip", "esp32h2"]

    z = tmp_path / "fw.zip"
    make_dfu_zip(z)
    assert dry_run(capsys, "pca10059_nrf52840_dongle", z, "--port", "/dev/ttyACM0") == [
        "nrfutil", "dfu", "usb-serial", "-pkg", str(z), "-p", "/dev/ttyACM0"]
    assert dry_run(capsys, "adafruit_clue_nrf52840_express", z, "--port", "/dev/ttyACM0") == [
        "adafruit-nrfutil", "--verbose", "dfu", "serial", "--package", str(z), "-p", "/dev/ttyACM0",
        "-b", "115200", "--singlebank", "--touch", "1200"]

    build = tmp_path / "build"
    (build / "zephyr").mkdir(parents=True)
    (build / "CMakeCache.txt").write_text("")
    hx = build / "zephyr" / "zephyr.hex"
    hx.write_bytes(make_ihex(0x0))
    assert dry_run(capsys, "micro_bit_v2", hx, "--method", "west") == [
        "west", "flash", "--build-dir", str(build), "--hex-file", str(hx)]

    d = tmp_path / "fw.dfu"
    d.write_bytes(make_dfuse())
    assert dry_run(capsys, "pyboardv1_1", d) == ["dfu-util", "-a", "0", "-D", str(d)]
    t = tmp_path / "teensy.hex"
    t.write_bytes(make_ihex(0x60000000))
    assert dry_run(capsys, "teensy_4_1", t) == ["teensy_loader_cli", "--mcu=TEENSY41", "-w", "-v", str(t)]
    s = tmp_path / "xg24.hex"
    s.write_bytes(make_ihex(0x08000000))
    assert dry_run(capsys, "silabs_xg24_explorer_kit", s) == ["commander", "flash", str(s)]


def test_dfu_methods_need_a_port(tmp_path):
    z = tmp_path / "fw.zip"
    make_dfu_zip(z)
    r = bleboard("flash", "--board", "adafruit_clue_nrf52840_express", str(z), "--dry-run")
    assert r.returncode == 2 and "needs the board's serial port" in r.stderr


def test_unknown_board_and_wrong_kind(tmp_path):
    uf2 = tmp_path / "fw.uf2"
    uf2.write_bytes(make_uf2(RP2040))
    r = bleboard("flash", "--board", "raspberry_pi_pico_x", str(uf2), "--dry-run")
    assert r.returncode == 2 and "raspberry_pi_pico" in r.stderr and "did you mean" in r.stderr
    r = bleboard("flash", "--board", "raspberry_pi_pico", str(tmp_path / "nope.uf2"), "--dry-run")
    assert r.returncode == 2 and "does not exist" in r.stderr
    esp = tmp_path / "fw.bin"
    esp.write_bytes(make_esp_image(9))
    r = bleboard("flash", "--board", "raspberry_pi_pico", str(esp), "--dry-run")
    assert r.returncode == 2 and "rp2040 does not take ESP images" in r.stderr
    z = tmp_path / "fw.zip"
    make_dfu_zip(z)
    r = bleboard("flash", "--board", "raspberry_pi_pico", str(z), "--dry-run")
    assert r.returncode == 2 and "cannot take a dfu-zip file (it is flashed with uf2: uf2)" in r.stderr


def test_uf2_copy_to_fake_bootloader_drive(tmp_path, fake_drive):
    fw = tmp_path / "circuitpython.uf2"
    data = make_uf2(NRF52840, nblocks=100)
    fw.write_bytes(data)
    env = {drives.ENV_MOUNTS: str(fake_drive.parent)}
    r = bleboard("flash", "--board", "adafruit_feather_nrf52840_express", str(fw), "--dry-run", env=env)
    assert r.stdout.strip() == f"copy {fw} -> {fake_drive}/circuitpython.uf2"
    r = bleboard("flash", "--board", "adafruit_feather_nrf52840_express", str(fw), env=env)
    assert r.returncode == 0, r.stderr
    assert (fake_drive / "circuitpython.uf2").read_bytes() == data
    assert "100.0%" in r.stderr and "[" + "#" * 30 + "]" in r.stderr
    assert sorted(p.name for p in fake_drive.iterdir()) == ["CURRENT.UF2", "INFO_UF2.TXT", "circuitpython.uf2"]


def test_wrong_family_refused_before_writing(tmp_path, fake_drive):
    fw = tmp_path / "pico.uf2"
    fw.write_bytes(make_uf2(RP2040))
    before = sorted(p.name for p in fake_drive.iterdir())
    r = bleboard("flash", "--board", "adafruit_feather_nrf52840_express", str(fw),
                 env={drives.ENV_MOUNTS: str(fake_drive.parent)})
    assert r.returncode == 2 and "0xe48bff56 (RP2040)" in r.stderr
    assert sorted(p.name for p in fake_drive.iterdir()) == before


def test_no_drive_mounted(tmp_path):
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(RP2040))
    empty = tmp_path / "empty"
    empty.mkdir()
    r = bleboard("flash", "--board", "raspberry_pi_pico", str(fw), env={drives.ENV_MOUNTS: str(empty)})
    assert r.returncode == 1 and "no drive with INFO_UF2.TXT" in r.stderr and "double-tap" in r.stderr
    assert r.stderr.count("\n") == 1  # one line, no traceback


def test_dry_run_needs_no_drive(tmp_path):
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(RP2040))
    empty = tmp_path / "empty"
    empty.mkdir()
    r = bleboard("flash", "--dry-run", "--board", "raspberry_pi_pico_w", str(fw), env={drives.ENV_MOUNTS: str(empty)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"copy {fw} -> <UF2 bootloader drive>/fw.uf2\n"
    assert "note: not mounted now: no drive with INFO_UF2.TXT" in r.stderr
    r = bleboard("flash", "--dry-run", "--board", "raspberry_pi_pico_w", "--drive", str(empty), str(fw))
    assert r.returncode == 0 and r.stdout == f"copy {fw} -> {empty}/fw.uf2\n"
    r = bleboard("flash", "--dry-run", "--board", "raspberry_pi_pico_w", "--drive", str(empty / "no"), str(fw))
    assert r.returncode == 2 and f"--drive {empty / 'no'}: no such directory" in r.stderr


def test_directory_as_firmware(tmp_path):
    (tmp_path / "firmware.uf2").write_bytes(make_uf2(RP2040))
    r = bleboard("flash", "--dry-run", "--board", "raspberry_pi_pico_w", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr == (f"bleboard flash: firmware {str(tmp_path)!r} is a directory, not a firmware file; "
                        "firmware files in it: firmware.uf2\n")


def test_drive_vanishing_mid_copy(tmp_path, fake_drive):
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(NRF52840, nblocks=200))
    board = boards.get("adafruit_feather_nrf52840_express")
    p = flash.plan(board, str(fw), "uf2", "uf2", roots=[str(fake_drive.parent)])
    calls = []

    def unplug_after_first_chunk(done, total):
        calls.append(done)
        if len(calls) == 1:
            for f in fake_drive.iterdir():
                if not f.name.startswith(".bleboard-"):
                    f.unlink()  # the bootloader drive is unmounted: its marker file is gone

    with pytest.raises(flash.FlashError, match=r"went away after 16384 of 102400 bytes.*not flashed"):
        flash.run(p, str(fw), on_progress=unplug_after_first_chunk)
    assert list(fake_drive.iterdir()) == []  # no half-written file left behind
    assert calls == [16384]


def test_drive_gone_after_last_block_is_success(tmp_path, fake_drive):
    """A real UF2 bootloader reboots as the last block lands; that is not a failure."""
    import shutil
    fw = tmp_path / "fw.uf2"
    fw.write_bytes(make_uf2(NRF52840, nblocks=8))

    def reboot_at_end(done, total):
        if done == total:
            shutil.rmtree(fake_drive)

    final = drives.copy(str(fw), str(fake_drive), on_progress=reboot_at_end)
    assert final.endswith("fw.uf2") and not fake_drive.exists()


def test_real_esptool_failure_is_reported(tmp_path):
    """The real esptool runs with our argv on a port where no ESP bootloader answers (a silent pty)."""
    master, slave = os.openpty()
    try:
        fw = tmp_path / "fw.bin"
        fw.write_bytes(make_esp_image(9))
        (tmp_path / "esptool.cfg").write_text("[esptool]\nconnect_attempts = 1\n")  # fail fast
        r = subprocess.run([sys.executable, "-m", "bleboard", "flash", "--board", "esp32_s3_devkitc_1_n8", str(fw),
                            "--port", os.ttyname(slave)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert r.returncode == 1
        assert "Failed to connect to ESP32-S3" in r.stdout + r.stderr  # esptool's own words
        assert "bleboard flash: esptool failed with exit status 2" in r.stderr
    finally:
        os.close(master)
        os.close(slave)


def test_msd_copy_writes_the_final_name(tmp_path):
    """DAPLink / ST-LINK drives (DETAILS.TXT) accept a file by its extension: no temporary name."""
    drive = tmp_path / "media" / "MICROBIT"
    drive.mkdir(parents=True)
    (drive / "DETAILS.TXT").write_text("# DAPLink Firmware - see https://daplink.io\nUnique ID: 9904\n")
    fw = tmp_path / "microbit.hex"
    fw.write_bytes(make_ihex(0x0, nbytes=4096))
    board = boards.get("micro_bit_v2")
    assert firmware.check(str(fw), board) == "ihex"
    p = flash.plan(board, str(fw), "ihex", flash.choose_method(board, "ihex"), roots=[str(drive.parent)])
    assert p.method == "msd" and p.drive == str(drive)
    names_during = []
    flash.run(p, str(fw), on_progress=lambda done, total: names_during.append(sorted(f.name for f in drive.iterdir())))
    assert all(names == ["DETAILS.TXT", "microbit.hex"] for names in names_during)
    assert (drive / "microbit.hex").read_bytes() == fw.read_bytes()


def test_missing_python_tool_names_the_extra():
    plan = flash.Plan("esptool", [sys.executable, "-m", "bleboard_no_such_tool", "write-flash"])
    assert flash.missing_tool(plan) == ("bleboard_no_such_tool is not installed: pip install 'bleboard[tools]' "
                                        "(or pip install bleboard_no_such_tool)")
    assert flash.missing_tool(flash.Plan("esptool", [sys.executable, "-m", "esptool"])) is None  # the test extra has it
