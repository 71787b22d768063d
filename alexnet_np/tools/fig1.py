"""The paper's Fig. 1, its way: a four-layer CNN with ReLU vs tanh, epochs to 25% training error.

Paper, sec. 3.1, Fig. 1: "A four-layer convolutional neural network with ReLUs (solid line)
reaches a 25% training error rate on CIFAR-10 six times faster than an equivalent network with
tanh neurons (dashed line). The learning rates for each network were chosen independently to
make training as fast as possible. No regularization of any kind was employed."

So, here::

    net(act) = conv 5x5 (c1) - act - maxpool 2/2 - conv 3x3 (c2) - act - maxpool 2/2
               - fc (hidden) - act - fc (10)            # four learned layers
    for seed in seeds, for act in (relu, tanh), for lr in lrs:
        the same initial weights (Kaiming normal, fc8-like last layer N(0, 0.01^2)) and the
        same batch order for both activations; plain SGD with momentum 0.9, no weight decay,
        no dropout, no augmentation (no regularisation of any kind);
        after every epoch: top-1 error on the WHOLE training set (eval mode)
        -> epochs until it first reaches 25%
    per activation and seed, the fastest learning rate of the grid (the paper's choice)

Inputs: centred pixels x ``scale``. The paper fed centred raw pixels (std ~60 on 0..255) into
weights drawn from N(0, 0.01^2) (sec. 5), so its first layer's pre-activations had a standard
deviation of about sqrt(75) * 60 * 0.01 ~ 5: tanh units started in saturation. With Kaiming's
init the same happens for inputs of std ~4, pixels x 1/16 (the default here). At the presets'
scale (x 1/64, std ~1) nothing saturates, and the two activations train about equally fast
(lesson 03, docs/ablations.md).
"""

import math

import numpy as np

from ..layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, SoftmaxCrossEntropy, Tanh
from ..optim import SGD

ACTIVATIONS = {"relu": ReLU, "tanh": Tanh}
TARGET = 0.25  # Fig. 1's line: 25% training error


def four_layer_net(act, size, seed=0, widths=(16, 32, 64), classes=10, layer_classes=None):
    """conv-act-pool, conv-act-pool, fc-act, fc for ``size`` x ``size`` RGB inputs.

    ``act``: "relu" or "tanh". The weights depend on ``seed`` only, so both activations start
    from the same numbers. ``layer_classes``: ``(Conv2d, MaxPool2d, Linear)`` (default the
    NumPy reference layers; ``alexnet_np.fast``'s twins compute the same numbers faster).
    """
    conv, pool, linear = layer_classes or (Conv2d, MaxPool2d, Linear)
    act_cls = ACTIVATIONS[act]
    c1, c2, hidden = widths
    r = np.random.default_rng(seed)
    f = c2 * (size // 4) ** 2  # (c2, size/4, size/4) flattened
    return [conv(3, c1, 5, 1, 2, rng=r, std=math.sqrt(2 / 75)), act_cls(), pool(2, 2),
            conv(c1, c2, 3, 1, 1, rng=r, std=math.sqrt(2 / (9 * c1))), act_cls(), pool(2, 2),
            Flatten(), linear(f, hidden, rng=r, std=math.sqrt(2 / f)), act_cls(),
            linear(hidden, classes, rng=r, std=0.01)]  # small: the first logits are near 0


def forward(layers, x, batch=256):
    """Logits of ``x`` (N, 3, S, S) in chunks of ``batch``."""
    out = []
    for i in range(0, len(x), batch):
        h = x[i:i + batch]
        for layer in layers:
            h = layer.forward(h)
        out.append(h)
    return np.concatenate(out)


def train_error_curve(layers, x, y, epochs, lr, batch=64, order_seed=1, target=TARGET):
    """Training top-1 error on all of ``x`` after each epoch of SGD (momentum 0.9, no weight
    decay), stopping at the first epoch that reaches ``target`` or after ``epochs``.
    A diverged run (non-finite loss) stops with error 1.0 for that epoch."""
    params = {f"{i}.{k}": v for i, lay in enumerate(layers) for k, v in lay.params.items()}
    opt, loss_layer = SGD(params, lr=lr, weight_decay=0.0), SoftmaxCrossEntropy()
    rng = np.random.default_rng(order_seed)  # the same batch order for every net
    n = len(y)
    errors = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            idx = order[i:i + batch]
            h = x[idx]
            for layer in layers:
                h = layer.forward(h)
            loss = loss_layer.forward(h, y[idx])
            if not np.isfinite(loss):
                return np.array(errors + [1.0])
            d = loss_layer.backward()
            for lay in reversed(layers):
                d = lay.backward(d)
            opt.step({f"{j}.{k}": v for j, lay in enumerate(layers)
                      for k, v in lay.grads.items()})
        errors.append(float(np.mean(forward(layers, x).argmax(1) != y)))
        if errors[-1] <= target:
            break
    return np.array(errors)


def epochs_to(errors, target=TARGET):
    """1-based epoch at which ``errors`` first reaches ``target``; None if never."""
    hit = np.flatnonzero(np.asarray(errors) <= target)
    return int(hit[0]) + 1 if hit.size else None


def best_of(runs):
    """The fastest run of a learning-rate grid: fewest epochs to the target; among runs that
    never reach it, the lowest final error. ``runs``: {lr: errors}."""
    def key(lr):
        e = epochs_to(runs[lr])
        return (0, e, 0.0) if e is not None else (1, 0, float(runs[lr][-1]))
    return min(runs, key=key)


def measure(x, y, lrs=(0.003, 0.01, 0.03), seeds=(0,), epochs=30, batch=64,
            layer_classes=None, log=print):
    """Fig. 1 for every seed: ``{seed: {act: {"lr": best lr, "epochs": n or None,
    "curve": [...], "grid": {lr: [...]}}}}``. ``x``: (N, 3, S, S) inputs, ``y``: labels."""
    size = x.shape[-1]
    out = {}
    for seed in seeds:
        out[seed] = {}
        for act in ACTIVATIONS:
            grid = {}
            for lr in lrs:
                net = four_layer_net(act, size, seed=seed, layer_classes=layer_classes)
                grid[lr] = train_error_curve(net, x, y, epochs, lr, batch=batch,
                                             order_seed=seed + 1)
                log(f"fig1 seed {seed} {act} lr {lr:g}: epochs to 25% "
                    f"{epochs_to(grid[lr]) or 'not reached'} (last error {grid[lr][-1]:.1%})")
            lr = best_of(grid)
            out[seed][act] = {"lr": lr, "epochs": epochs_to(grid[lr]),
                              "curve": grid[lr].tolist(),
                              "grid": {str(k): v.tolist() for k, v in grid.items()}}
    return out


def ratio(result, max_epochs):
    """tanh's epochs over ReLU's for one seed's result (a lower bound, max_epochs + 1 for
    tanh, if tanh never reached the target); None if ReLU never reached it."""
    relu, tanh = result["relu"]["epochs"], result["tanh"]["epochs"]
    if relu is None:
        return None
    return (tanh or max_epochs + 1) / relu


def load_inputs(data, size, n, seed, scale, cache_dir=""):
    """The first ``n`` training images of ``data`` at ``size`` x ``size``, centred and scaled
    by ``scale`` (centre crop, no augmentation): ``(x, y)``."""
    from ..data import BatchLoader, load_dataset  # the data package: only when measuring
    ds = load_dataset(data, size, seed=seed, cache_dir=cache_dir or None, synthetic_train=n,
                      synthetic_val=10, verbose=False)
    n = min(n, len(ds.train_labels))
    x, y = next(iter(BatchLoader(ds, "train", n, size, train=False, scale=scale,
                                 prefetch=False)))
    return x, y


def same_lr(result, lr):
    """Epochs to the target of both activations at one learning rate ``lr`` of the grid."""
    return {act: epochs_to(result[act]["grid"][str(lr)]) for act in ACTIVATIONS}


def figure(results, lr):
    """Training error per epoch, one panel per seed: both activations at the shared ``lr``
    (dashed) and at each one's fastest rate of the grid (solid). Returns the figure."""
    import matplotlib.pyplot as plt
    seeds = list(results)
    fig, axes = plt.subplots(1, len(seeds), figsize=(5 * len(seeds), 3.4), squeeze=False)
    for ax, seed in zip(axes[0], seeds, strict=True):
        for act, colour in (("relu", "C0"), ("tanh", "C3")):
            r = results[seed][act]
            shared = r["grid"][str(lr)]
            ax.plot(range(1, len(shared) + 1), [100 * e for e in shared], "--", color=colour,
                    lw=4, alpha=0.35, label=f"{act}, lr {lr:g} (both)")
            ax.plot(range(1, len(r["curve"]) + 1), [100 * e for e in r["curve"]], "o-",
                    ms=3, lw=1.2, color=colour, label=f"{act}, its fastest lr {r['lr']:g}")
        ax.axhline(100 * TARGET, color="gray", ls=":")
        ax.set(xlabel="epoch", ylabel="training error (%)", ylim=(0, 100),
               title=f"four-layer CNN, seed {seed}")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot(results, lr, path):
    """:func:`figure` saved as ``path`` (PNG)."""
    import matplotlib
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    fig = figure(results, lr)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def render_markdown(results, settings):
    """The Fig. 1 section of ``ablation.md``."""
    lr, epochs = settings["shared_lr"], settings["epochs"]
    lines = [
        "## ReLU vs tanh the paper's way (Fig. 1)", "",
        f"A four-layer CNN (conv 5x5 - pool - conv 3x3 - pool - fc - fc), no regularisation, "
        f"the first {settings['n_images']} training images at {settings['size']}x"
        f"{settings['size']}, pixels centred and x {settings['scale']:g}; error on all of them "
        f"after each epoch; at most {epochs} epochs. Learning rates tried for each network: "
        f"{', '.join(f'{x:g}' for x in settings['lrs'])}. '-': 25% not reached.", "",
        f"| seed | ReLU at lr {lr:g} | tanh at lr {lr:g} | ratio | ReLU, fastest lr "
        "| tanh, fastest lr | ratio (the paper's protocol) |",
        "|---|---|---|---|---|---|---|",
    ]
    for seed, r in results.items():
        s = same_lr(r, lr)
        s_ratio = ratio({a: {"epochs": s[a]} for a in s}, epochs)
        b_ratio = ratio(r, epochs)
        lines.append(
            f"| {seed} | {s['relu'] or '-'} | {s['tanh'] or '-'} | {_ratio(s_ratio, s['tanh'])} "
            f"| {r['relu']['epochs'] or '-'} (lr {r['relu']['lr']:g}) "
            f"| {r['tanh']['epochs'] or '-'} (lr {r['tanh']['lr']:g}) "
            f"| {_ratio(b_ratio, r['tanh']['epochs'])} |")
    lines += ["", "Paper, Fig. 1: ReLU 6x faster, each network at its own fastest learning rate. "
              "Ratio: tanh's epochs over ReLU's ('>=' when tanh did not reach 25%).", ""]
    return "\n".join(lines)


def _ratio(x, tanh_epochs):
    if x is None:
        return "-"
    return f"{'>=' if tanh_epochs is None else ''}{x:.1f}x"
