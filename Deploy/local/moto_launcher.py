"""Runs moto server with Analemma's launch-time patches (moto_patches.py).

Usage: python moto_launcher.py -H 127.0.0.1 -p 4567   (MOTO_PORT in the environment names the front door,
which moto's Step Functions interpreter calls for Lambda, S3, ...).
"""

import sys

import moto_patches


def main():
    moto_patches.apply_all()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
