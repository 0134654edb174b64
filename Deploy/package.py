"""Packages functions as Lambda zip bundles: `bootstrap` (stripped, static) at the zip root, mode 0755.

  python Deploy/package.py --bin-dir .build/release --out Deploy/dist [--functions-dir Functions] [NAME ...]

Each <functions-dir>/<name>/ with a main.swift and function.json becomes <out>/<name>.zip; the binary is the
product named by function.json's `executable` (default: the folder name). Deterministic: fixed timestamps.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def is_static(path):
    """True when the ELF file has no PT_INTERP program header (no dynamic loader needed)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise ValueError(f"{path} is not a 64-bit ELF file")
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(int.from_bytes(table[i * phentsize:i * phentsize + 4], "little") != 3 for i in range(phnum))


def package(name, executable, bin_dir, out_dir):
    binary = os.path.join(bin_dir, executable)
    if not os.path.isfile(binary):
        raise SystemExit(f"package: {name}: no binary {binary} (run `make build` first)")
    if not is_static(binary):
        raise SystemExit(f"package: {name}: {binary} is dynamically linked; build with -static-executable")
    with tempfile.TemporaryDirectory() as tmp:
        stripped = os.path.join(tmp, "bootstrap")
        shutil.copyfile(binary, stripped)
        subprocess.run(["strip", stripped], check=True)
        target = os.path.join(out_dir, f"{name}.zip")
        info = zipfile.ZipInfo("bootstrap", date_time=FIXED_TIME)
        info.external_attr = (0o100755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(target + ".tmp", "w") as z, open(stripped, "rb") as f:
            z.writestr(info, f.read(), compresslevel=9)
        os.replace(target + ".tmp", target)
    return target


def main(argv):
    p = argparse.ArgumentParser(prog="package.py")
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--functions-dir", default="Functions")
    p.add_argument("names", nargs="*")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    names = args.names or sorted(
        d for d in os.listdir(args.functions_dir)
        if os.path.isfile(os.path.join(args.functions_dir, d, "main.swift"))) if os.path.isdir(args.functions_dir) else []
    if not names:
        print(f"package: no functions under {args.functions_dir}/ yet")
    for name in names:
        spec_path = os.path.join(args.functions_dir, name, "function.json")
        spec = json.load(open(spec_path)) if os.path.isfile(spec_path) else {}
        target = package(name, spec.get("executable", name), args.bin_dir, args.out)
        print(f"package: {target} ({os.path.getsize(target)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
