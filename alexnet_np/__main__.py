"""``python -m alexnet_np`` runs the same command-line interface as ``alexnet-np``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
