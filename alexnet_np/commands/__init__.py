"""One module per ``alexnet-np`` subcommand (see ``alexnet_np/cli.py``)."""
