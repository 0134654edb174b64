"""`make package-check`: is each deploy zip deployable on provided.al2 and provided.al2023?

A zip passes when `bootstrap` is at its root, is executable (mode bits in the zip), is an x86-64 ELF executable and
is either not dynamically linked (no PT_INTERP, no DT_NEEDED) or needs no GLIBC symbol version newer than 2.26
(Amazon Linux 2's glibc; AL2023 has 2.34). Prints one verdict line per zip; exits 1 if any zip is not deployable.

  python Deploy/package_check.py [Deploy/dist]
"""

import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile

MAX_GLIBC = (2, 26)


def elf_facts(path):
    """(machine, type, has PT_INTERP, has PT_DYNAMIC) from the ELF header and program headers."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return None
        e_type, machine = struct.unpack("<HH", head[16:20])
        phoff = struct.unpack("<Q", head[32:40])[0]
        phentsize, phnum = struct.unpack("<HH", head[54:58])
        f.seek(phoff)
        kinds = [struct.unpack("<I", f.read(phentsize)[:4])[0] for _ in range(phnum)]
    return machine, e_type, 3 in kinds, 2 in kinds


def glibc_needs(path):
    """The GLIBC_x.y versions the binary's dynamic symbols need, and its DT_NEEDED libraries (readelf)."""
    versions = subprocess.run(["readelf", "-V", "-W", path], capture_output=True, text=True).stdout
    needed = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True).stdout
    found = {tuple(int(x) for x in m.groups()) for m in re.finditer(r"GLIBC_(\d+)\.(\d+)", versions)}
    return sorted(found), re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", needed)


def check(zip_path):
    name = os.path.basename(zip_path)
    try:
        z = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        return False, f"{name}: not a zip"
    with z:
        try:
            info = z.getinfo("bootstrap")
        except KeyError:
            return False, f"{name}: no bootstrap at the zip root (has {z.namelist()[:5]})"
        mode = info.external_attr >> 16
        if not mode & 0o111:
            return False, f"{name}: bootstrap is not executable (mode {oct(mode)})"
        with tempfile.TemporaryDirectory() as tmp:
            path = z.extract(info, tmp)
            facts = elf_facts(path)
            if facts is None:
                return False, f"{name}: bootstrap is not a 64-bit ELF file"
            machine, e_type, interp, dynamic = facts
            if machine != 62:
                return False, f"{name}: bootstrap is not x86-64 (e_machine {machine})"
            versions, libraries = glibc_needs(path)
            size = os.path.getsize(path)
    if not interp and not libraries:
        kind = "static-pie" if e_type == 3 else "static"
        return True, f"{name}: deployable on provided.al2 and provided.al2023 - {kind}, no glibc requirement ({size / 1e6:.1f} MB)"
    newest = max(versions) if versions else None
    if newest and newest > MAX_GLIBC:
        return False, (f"{name}: NOT deployable on provided.al2 - dynamically linked ({', '.join(libraries)}), needs "
                       f"GLIBC_{newest[0]}.{newest[1]} > 2.26")
    return True, f"{name}: deployable - dynamically linked, newest glibc symbol {newest}, needs {', '.join(libraries)}"


def main(argv):
    dist = argv[0] if argv else os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist")
    zips = sorted(os.path.join(dist, z) for z in os.listdir(dist) if z.endswith(".zip")) if os.path.isdir(dist) else []
    if not zips:
        print(f"no zips in {dist}: run `make package` first")
        return 1
    bad = 0
    for z in zips:
        ok, line = check(z)
        print(("ok    " if ok else "FAIL  ") + line)
        bad += not ok
    print(f"{len(zips) - bad} of {len(zips)} zips deployable")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
