"""The first program to read: AlexNet trained by one loop that runs top to bottom.

    python examples/hand_written_loop.py                       # cifar preset, 200 steps
    python examples/hand_written_loop.py --arch micro --steps 50

Nothing is hidden. The data, the network built from the plain NumPy layers
(``alexnet_np/layers``), the paper's SGD (``alexnet_np/optim.py``), and the loop: forward,
loss, backward, update. ``alexnet-np train`` does the same steps; what it adds around them is
bookkeeping (validation every epoch, learning-rate schedule, checkpoints and resume, progress
bars): ``alexnet_np/train.py``. The picture of one step is docs/images/dataflow.png.
"""

import argparse

import numpy as np

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.optim import SGD

# --- settings (the paper's values, sec. 5, in the comments) ------------------------------
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--arch", default="cifar", help="a preset: micro, cifar, tiny, paper")
parser.add_argument("--steps", type=int, default=200, help="SGD steps in all")
parser.add_argument("--batch-size", type=int, default=64)  # the paper: 128
parser.add_argument("--lr", type=float, default=0.02)  # the paper: 0.01, then / 10 three times
parser.add_argument("--train-size", type=int, default=3000, help="synthetic training images")
parser.add_argument("--cache-dir", default=None, help="where the generated images are kept")
args = parser.parse_args()
rng = np.random.default_rng(0)  # crops, flips, PCA colour and the batch order

# --- the network: a list of (name, layer) pairs, from the NumPy reference layers ---------
# (build_model(..., fast=True) builds the same network from the faster Numba twins)
model = build_model(args.arch, num_classes=10, seed=0)
cfg = model.cfg  # the preset: input size, widths, the paper's switches
print(f"{cfg.name}: {model.num_params():,} parameters in "
      f"{' -> '.join(name for name, _ in model.layers)}")

# --- the data: images stored at cfg.image_size, crops of cfg.input_size go in -------------
data = load_dataset("synthetic", cfg.image_size, synthetic_train=args.train_size,
                    synthetic_val=500, cache_dir=args.cache_dir, verbose=False)

# --- the paper's SGD: v <- 0.9 v - 0.0005 lr w - lr dL/dw ;  w <- w + v -------------------
optimizer = SGD(model.params, lr=args.lr, momentum=0.9, weight_decay=0.0005)

# --- the loop -------------------------------------------------------------------------------
step, losses = 0, []
while step < args.steps:
    # one pass over the training images, in a new random order, freshly augmented
    batches = BatchLoader(data, "train", args.batch_size, cfg.input_size, train=True, rng=rng,
                          scale=cfg.input_scale)
    for x, labels in batches:  # x: (B, 3, input, input) float32, centred; labels: (B,) ints
        model.train()  # dropout on

        # forward: each layer in turn; each keeps what its backward will need (its cache)
        out = x
        for _, layer in model.layers:
            out = layer.forward(out)  # ..., then fc8: the logits (B, 10)
        loss = model.loss_layer.forward(out, labels)  # softmax + mean cross-entropy

        # backward: the same layers in reverse; each turns dL/d(its output) into
        # dL/d(its input) and stores dL/d(its weights) in layer.grads
        grad = model.loss_layer.backward()  # dL/dlogits = (softmax - one_hot) / B
        for _, layer in reversed(model.layers):
            grad = layer.backward(grad)
            if grad is None:  # conv1 does not compute a gradient for the image
                break

        # update: every weight, in place (model.params are the layers' own arrays)
        optimizer.step(model.grads)

        losses.append(float(loss))
        step += 1
        if step % 50 == 0 or step == args.steps:
            print(f"step {step}: training loss {np.mean(losses[-50:]):.3f} "
                  f"(chance: ln 10 = {np.log(10):.3f})")
        if step == args.steps:
            break

# --- validation: dropout off, the centre crop, the class with the largest logit -----------
model.eval()
wrong = total = 0
for x, labels in BatchLoader(data, "val", 256, cfg.input_size, train=False,
                             scale=cfg.input_scale):
    wrong += int(np.sum(model.forward(x).argmax(axis=1) != labels))
    total += len(labels)
print(f"validation top-1 error after {step} steps: {wrong / total:.2%} (chance: 90%)")
