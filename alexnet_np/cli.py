"""The ``alexnet-np`` command line: one subcommand per module in ``alexnet_np/commands``.

Each command module has ``add_parser(subparsers)`` (which registers the subcommand and sets
``func``) and the function it points to. Errors a user can fix are raised as
:class:`alexnet_np.errors.UserError` and printed as one line with exit status 2.
"""

import argparse
import importlib
import sys
import warnings

from . import __version__
from .errors import UserError

# The subcommands, in the order `alexnet-np --help` lists them.
COMMANDS = ["train", "evaluate", "predict", "info", "visualize", "ablate", "bench", "gradcheck",
            "grade"]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``alexnet-np CMD: error: ...; see ... --help``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser():
    parser = Parser(
        prog="alexnet-np",
        description="AlexNet (Krizhevsky, Sutskever, Hinton 2012) in NumPy with hand-derived "
                    "backprop, and in Numba CUDA. Run `alexnet-np COMMAND --help` for details.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-np {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"alexnet_np.commands.{name}").add_parser(sub)
    return parser


def one_line_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (Pillow's DecompressionBombWarning, NumPy's RuntimeWarning...) as one line
    ``warning: ...``, without the library's file path and source line."""
    print(f"warning: {message}", file=sys.stderr)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = one_line_warning
        return run(args)


def run(args):
    """Run the subcommand; a user's mistake, Ctrl-C, a full disk or too little memory end in
    one line on stderr and a non-zero exit status."""
    try:
        return args.func(args) or 0
    except UserError as err:
        print(f"alexnet-np {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"alexnet-np {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError as err:
        print(f"alexnet-np {args.command}: error: not enough memory ({err}); use a smaller "
              "--batch-size or a smaller preset", file=sys.stderr)
        return 2
    except OSError as err:  # the file system refused (full disk, permissions, I/O error)
        where = f" ({err.filename})" if err.filename else ""
        print(f"alexnet-np {args.command}: error: {err.strerror or err}{where}; check the "
              "path, its permissions and the free space", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
