"""Tooling around the network, not part of the reading path.

The reading path is ``layers/`` -> ``model.py`` -> ``optim.py`` -> ``train.py`` (with
``checkpoint.py`` and ``data/``). What lives here serves people using that code:

- ``grade/``: grades a student's layers in a sandboxed child process (``alexnet-np grade``);
- ``ablate.py``: retrains without each of the paper's ingredients (``alexnet-np ablate``);
- ``visualize.py``: the paper's Fig. 3 and Fig. 4, Grad-CAM, confusion matrices;
- ``bench.py``: CPU speed against PyTorch (the GPU's is ``cuda/bench.py``);
- ``plots.py``: training curves; ``progress.py``: the progress bar.
"""
