"""SGD exactly as the paper writes it (sec. 5), and learning-rate schedules.

The paper's update, for every weight w with gradient g = dL/dw, at learning rate lr::

    v <- 0.9 * v - 0.0005 * lr * w - lr * g
    w <- w + v

Weight decay (0.0005) is part of the update, not of the loss, and the learning rate sits
INSIDE the velocity. PyTorch's SGD keeps ``v <- 0.9 v + (g + wd * w)`` and applies
``w <- w - lr * v``: the two agree while lr is constant, but when lr drops by 10 the paper's
velocity still carries steps taken at the old rate, while PyTorch's whole velocity is
instantly rescaled. (Lesson 09 plots the difference.)

The paper applies weight decay to every weight; we follow it and decay biases too.
"""

import math

import numpy as np


class SGD:
    """``SGD(params, lr=0.01, momentum=0.9, weight_decay=0.0005)``, the paper's update.

    ``params`` is a dict ``{name: array}`` (e.g. ``model.params``); ``step(grads)`` updates
    those arrays in place. ``velocity`` holds one array per parameter (the state that a
    checkpoint saves).
    """

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0005):
        self.params = params
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        """``v <- m v - wd lr w - lr g``; ``w <- w + v``, in place, for every parameter."""
        lr, m, wd = self.lr, self.momentum, self.weight_decay
        for name, w in self.params.items():
            v = self.velocity[name]
            g = grads[name]
            v *= m
            v -= (wd * lr) * w
            v -= lr * g
            w += v

    def state_dict(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "velocity": {k: v.copy() for k, v in self.velocity.items()}}

    def load_state_dict(self, state):
        self.lr, self.momentum = float(state["lr"]), float(state["momentum"])
        self.weight_decay = float(state["weight_decay"])
        for k, v in state["velocity"].items():
            self.velocity[k][...] = v


class PlateauSchedule:
    """The paper's schedule: divide the learning rate by ``factor`` when the validation error
    stops improving (sec. 5: "divide by 10 when the validation error rate stopped improving";
    three times in all).

    ``step(val_error)`` is called once per epoch and returns the learning rate to use next.
    An epoch "improves" if its error is below the best so far by more than ``threshold``;
    after ``patience`` epochs without improvement the rate drops, at most ``max_drops`` times.
    """

    def __init__(self, lr, factor=10.0, patience=2, threshold=1e-3, max_drops=3):
        self.lr, self.factor, self.patience = lr, factor, patience
        self.threshold, self.max_drops = threshold, max_drops
        self.best = math.inf
        self.bad_epochs = 0
        self.drops = 0

    def step(self, val_error):
        if val_error < self.best - self.threshold:
            self.best, self.bad_epochs = val_error, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience and self.drops < self.max_drops:
                self.lr /= self.factor
                self.drops += 1
                self.bad_epochs = 0
        return self.lr

    def state_dict(self):
        return {"lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs,
                "drops": self.drops}

    def load_state_dict(self, state):
        self.lr, self.best = float(state["lr"]), float(state["best"])
        self.bad_epochs, self.drops = int(state["bad_epochs"]), int(state["drops"])


class StepSchedule:
    """Divide the learning rate by ``factor`` every ``step_size`` epochs."""

    def __init__(self, lr, step_size=30, factor=10.0):
        self.base_lr, self.step_size, self.factor = lr, step_size, factor
        self.epoch = 0
        self.lr = lr

    def step(self, val_error=None):
        self.epoch += 1
        self.lr = self.base_lr / self.factor ** (self.epoch // self.step_size)
        return self.lr

    def state_dict(self):
        return {"lr": self.lr, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.lr, self.epoch = float(state["lr"]), int(state["epoch"])


class CosineSchedule:
    """``lr(e) = min_lr + (base_lr - min_lr) * (1 + cos(pi * e / epochs)) / 2``, per epoch."""

    def __init__(self, lr, epochs, min_lr=0.0):
        self.base_lr, self.epochs, self.min_lr = lr, max(epochs, 1), min_lr
        self.epoch = 0
        self.lr = lr

    def step(self, val_error=None):
        self.epoch += 1
        t = min(self.epoch, self.epochs) / self.epochs
        self.lr = self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * t)) / 2
        return self.lr

    def state_dict(self):
        return {"lr": self.lr, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.lr, self.epoch = float(state["lr"]), int(state["epoch"])


class Warmup:
    """Linear learning-rate warm-up over the first ``steps`` SGD steps, around any schedule.

    ``lr_at(step)`` is the rate for 0-based global step ``step``::

        lr_at(step) = schedule.lr * min(1, (step + 1) / steps)

    so the first step uses ``lr / steps`` and step ``steps - 1`` onwards the schedule's own
    rate. Everything else (``step(val_error)`` once per epoch, ``lr``, the state) is the
    wrapped schedule's. Not in the paper (sec. 5 starts at 0.01): a deep net without
    normalisation, started from a random init at the full rate, can spend its first hundred
    steps with most ReLUs switched off; docs/training.md shows the health plots.
    """

    def __init__(self, schedule, steps):
        self.schedule, self.steps = schedule, int(steps)

    @property
    def lr(self):
        return self.schedule.lr

    @lr.setter
    def lr(self, value):
        self.schedule.lr = value

    @property
    def base_lr(self):
        return self.schedule.base_lr  # AttributeError for the plateau schedule, which has none

    @base_lr.setter
    def base_lr(self, value):
        self.schedule.base_lr = value

    def lr_at(self, step):
        if self.steps <= 0:
            return self.schedule.lr
        return self.schedule.lr * min(1.0, (step + 1) / self.steps)

    def step(self, val_error=None):
        return self.schedule.step(val_error)

    def state_dict(self):
        return self.schedule.state_dict()

    def load_state_dict(self, state):
        self.schedule.load_state_dict(state)


def make_schedule(name, lr, epochs, warmup_steps=0):
    """``plateau`` (the paper), ``step`` (every third of the run) or ``cosine``, per epoch,
    wrapped in a per-step linear :class:`Warmup` of ``warmup_steps`` (0: none, the paper)."""
    if name == "plateau":
        schedule = PlateauSchedule(lr)
    elif name == "step":
        schedule = StepSchedule(lr, step_size=max(1, epochs // 3))
    elif name == "cosine":
        schedule = CosineSchedule(lr, epochs)
    else:
        raise ValueError(f"unknown schedule '{name}'; choose plateau, step or cosine")
    return Warmup(schedule, warmup_steps)
