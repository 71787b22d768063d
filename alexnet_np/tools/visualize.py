"""The paper's figures at small scale: conv1 filters (Fig. 3), nearest neighbours in fc7 space
(Fig. 4), and two diagnostics the paper does not have: a confusion matrix and Grad-CAM.

Each figure has a function that computes the numbers (testable, no plotting) and a
``*_figure`` function that draws them with matplotlib (Agg backend: files only) and returns
the same numbers, so a command can print a text version beside the picture.

- Fig. 3 (sec. 6.1): conv1 is NOT grouped (it sees the whole image), but its output maps live
  on two GPUs: kernels 0..47 on GPU 1, 48..95 on GPU 2, because conv2 (grouped) lets group 0
  see only the first half of conv1's maps. The paper observes the first half come out largely
  colour-agnostic and the second largely colour-specific. :func:`colour_fraction` measures it.
- Fig. 4: Euclidean distance between fc7 (``relu7``, the last hidden layer) vectors.
- Grad-CAM (Selvaraju et al. 2017) on conv5::

      A = relu5 output (C, h, w);  g = d logit[top class] / d A   (backprop from the logits)
      w_c = mean over (h, w) of g[c];  cam = ReLU(sum_c w_c A[c])   -> upsampled to the input
"""

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from ..data import BatchLoader  # noqa: E402
from ..errors import UserError  # noqa: E402

# --------------------------------------------------------------------------------------
# Fig. 3: conv1 kernels
# --------------------------------------------------------------------------------------


def colour_fraction(W):
    """Per kernel, the share of its energy that is colour (not grey).

    ``W`` (K, 3, kh, kw). Split each kernel into its grey part (the mean over the three
    channels, repeated) and the rest: ``frac = ||W - grey||^2 / ||W||^2``. 0 means the three
    channels are identical (a colour-agnostic, luminance-only filter); values near 1 mean
    the kernel mostly compares colours (e.g. red against green). A random kernel with
    independent Gaussian entries averages 2/3 (two of the three colour directions are not
    grey), so a trained half well below 2/3 has learned to be colour-agnostic.

    Returns float64 ``(K,)``.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 4 or W.shape[1] != 3:
        raise ValueError(f"colour_fraction: expected conv1 weights (K, 3, kh, kw), got {W.shape}")
    grey = W.mean(axis=1, keepdims=True)  # (K, 1, kh, kw)
    total = np.sum(W ** 2, axis=(1, 2, 3))  # (K,)
    colour = np.sum((W - grey) ** 2, axis=(1, 2, 3))  # (K,)
    return colour / np.maximum(total, 1e-30)


def filter_halves(W, grouped=True):
    """Split conv1's kernels into the halves that feed conv2's two groups.

    Returns ``[(title, first_index, W_half), ...]``: two halves, or one entry when the net has
    no groups (``grouped=False``: every conv2 kernel sees every conv1 map, no split).
    """
    k = W.shape[0]
    if not grouped:
        return [(f"all {k} kernels (no groups: no split)", 0, W)]
    h = k // 2
    return [(f"kernels 0-{h - 1}: feed group 1 (\"GPU 1\")", 0, W[:h]),
            (f"kernels {h}-{k - 1}: feed group 2 (\"GPU 2\")", h, W[h:])]


def filter_stats(W, grouped=True):
    """Per half: title, kernel range, mean colour fraction, share of colour kernels (> 0.5)."""
    out = []
    for title, first, half in filter_halves(W, grouped):
        frac = colour_fraction(half)
        out.append({"title": title, "first": first, "count": len(half),
                    "mean_colour_fraction": float(frac.mean()),
                    "colour_kernels": int(np.sum(frac > 0.5))})
    return out


def kernel_mosaic(W, cols=None, upscale=1):
    """Kernels (K, 3, kh, kw) as one RGB image: a grid with 1-pixel white borders.

    Each kernel is shown on its own scale with zero at mid-grey: ``0.5 + 0.5 * w / max|w|``
    (so a grey tile is a weak kernel, and colour means the channels differ). Returns float
    ``(rows * (kh * upscale + 1) + 1, cols * (kw * upscale + 1) + 1, 3)`` in [0, 1].
    """
    W = np.asarray(W, dtype=np.float64)
    k, _, kh, kw = W.shape
    cols = cols or int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    th, tw = kh * upscale, kw * upscale
    canvas = np.ones((rows * (th + 1) + 1, cols * (tw + 1) + 1, 3))
    for i in range(k):
        w = W[i].transpose(1, 2, 0)  # (kh, kw, 3)
        tile = 0.5 + 0.5 * w / max(np.abs(w).max(), 1e-12)
        tile = np.repeat(np.repeat(tile, upscale, axis=0), upscale, axis=1)  # (th, tw, 3)
        r, c = divmod(i, cols)
        canvas[1 + r * (th + 1):1 + r * (th + 1) + th,
               1 + c * (tw + 1):1 + c * (tw + 1) + tw] = tile
    return canvas


def filters_figure(W, out_png, grouped=True, title=""):
    """The conv1 kernels as image grids, one per half (the paper's Fig. 3). Returns
    :func:`filter_stats`."""
    W = np.asarray(W)
    halves = filter_halves(W, grouped)
    stats = filter_stats(W, grouped)
    kh = W.shape[2]
    upscale = max(1, 12 // kh)  # small kernels drawn large enough to see
    fig, axes = plt.subplots(1, len(halves), figsize=(5.2 * len(halves), 5.4), squeeze=False)
    for ax, (name, _, half), st in zip(axes[0], halves, stats, strict=True):
        cols = int(np.ceil(np.sqrt(len(half))))
        ax.imshow(kernel_mosaic(half, cols, upscale), interpolation="nearest")
        ax.set_title(f"{name}\nmean colour fraction {st['mean_colour_fraction']:.2f}; "
                     f"{st['colour_kernels']}/{st['count']} colour kernels", fontsize=10)
        ax.axis("off")
    fig.suptitle(title or f"conv1 kernels ({W.shape[0]} x {W.shape[1]}x{kh}x{W.shape[3]})",
                 fontsize=12)
    fig.text(0.5, 0.01, "colour fraction = share of a kernel's energy that differs between "
             "R, G and B (0 = grey, colour-agnostic; random kernels average 2/3)",
             ha="center", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    return stats


# --------------------------------------------------------------------------------------
# Fig. 4: nearest neighbours in fc7 space
# --------------------------------------------------------------------------------------


def extract_features(stepper, dataset, split="train", indices=None, batch_size=128,
                     scale=1.0, layer="relu7"):
    """fc7 features (N, D) of the centre crops of ``split`` (eval mode: no dropout).

    ``indices`` (optional) picks images of the split; default all of them.
    """
    images = dataset.train_images if split == "train" else dataset.val_images  # (N, S, S, 3)
    if indices is None:
        indices = np.arange(len(images))
    indices = np.asarray(indices)
    crop = stepper.model.cfg.input_size
    s = images.shape[1]
    off = (s - crop) // 2
    mean = np.asarray(dataset.mean_image, dtype=np.float32)  # (3, S, S)
    feats = []
    for start in range(0, len(indices), batch_size):
        idx = np.sort(indices[start:start + batch_size])
        order = np.argsort(np.argsort(indices[start:start + batch_size]))  # back to caller order
        x = (images[idx].transpose(0, 3, 1, 2).astype(np.float32) - mean)  # (B, 3, S, S)
        x = x[:, :, off:off + crop, off:off + crop] * np.float32(scale)  # (B, 3, c, c)
        f = stepper.features(np.ascontiguousarray(x), upto=layer)  # (B, D)
        feats.append(np.asarray(f).reshape(len(idx), -1)[order])
    return np.concatenate(feats).astype(np.float64)


def nearest_neighbors(queries, database, k=5):
    """Indices and Euclidean distances of the ``k`` rows of ``database`` (N, D) nearest to each
    row of ``queries`` (Q, D). Computed as the norm of the difference (no expansion into
    ``|a|^2 + |b|^2 - 2ab``), so an identical row is at distance exactly 0.

    Returns ``(idx (Q, k) int, dist (Q, k) float64)``, nearest first (ties: lower index).
    """
    queries = np.asarray(queries, dtype=np.float64)
    database = np.asarray(database, dtype=np.float64)
    k = min(k, len(database))
    idx = np.empty((len(queries), k), dtype=np.int64)
    dist = np.empty((len(queries), k))
    for i, q in enumerate(queries):
        d = np.sqrt(np.sum((database - q) ** 2, axis=1))  # (N,)
        order = np.argsort(d, kind="stable")[:k]
        idx[i], dist[i] = order, d[order]
    return idx, dist


def neighbors(stepper, dataset, query_indices, k=5, scale=1.0, max_train=0, batch_size=128):
    """Fig. 4's retrieval: for each val image in ``query_indices`` the ``k`` training images
    nearest in fc7 space. ``max_train`` > 0 searches only the first ``max_train`` training
    images. Returns a list of dicts (query index/label, neighbour indices/labels/distances)."""
    n_train = len(dataset.train_labels)
    pool = np.arange(min(max_train, n_train) if max_train else n_train)
    db = extract_features(stepper, dataset, "train", pool, batch_size, scale)  # (N, D)
    q = extract_features(stepper, dataset, "val", query_indices, batch_size, scale)  # (Q, D)
    idx, dist = nearest_neighbors(q, db, k)
    out = []
    for qi, row, drow in zip(query_indices, idx, dist, strict=True):
        out.append({"query": int(qi), "query_label": int(dataset.val_labels[qi]),
                    "neighbors": [int(pool[j]) for j in row],
                    "labels": [int(dataset.train_labels[pool[j]]) for j in row],
                    "distances": [float(d) for d in drow]})
    return out


def neighbors_figure(dataset, results, classes, out_png, title=""):
    """Rows: a val image, then its nearest training images (labels; green = same class)."""
    k = max(len(r["neighbors"]) for r in results)
    fig, axes = plt.subplots(len(results), k + 1, figsize=(1.6 * (k + 1), 1.75 * len(results)),
                             squeeze=False)
    for row, r in zip(axes, results, strict=True):
        row[0].imshow(dataset.val_images[r["query"]], interpolation="nearest")
        row[0].set_title(f"val {r['query']}\n{classes[r['query_label']]}", fontsize=8,
                         fontweight="bold")
        for j, ax in enumerate(row[1:]):
            if j >= len(r["neighbors"]):
                ax.axis("off")
                continue
            same = r["labels"][j] == r["query_label"]
            ax.imshow(dataset.train_images[r["neighbors"][j]], interpolation="nearest")
            ax.set_title(f"{classes[r['labels'][j]]}\nd={r['distances'][j]:.2f}", fontsize=8,
                         color="green" if same else "red")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title or "val images (left) and the training images nearest in fc7 space",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)


def neighbors_text(results, classes):
    """The retrieval as text lines."""
    lines = []
    for r in results:
        same = sum(lab == r["query_label"] for lab in r["labels"])
        lines.append(f"val {r['query']} ({classes[r['query_label']]}): {same}/"
                     f"{len(r['labels'])} neighbours of the same class")
        for rank, (i, lab, d) in enumerate(zip(r["neighbors"], r["labels"], r["distances"],
                                               strict=True), 1):
            lines.append(f"  {rank}. train {i:<6} {classes[lab]:<20} distance {d:.3f}")
    return lines


# --------------------------------------------------------------------------------------
# confusion matrix (for `evaluate --confusion`)
# --------------------------------------------------------------------------------------


def confusion_matrix(stepper, dataset, scale=1.0, batch_size=128):
    """Counts ``C[true, predicted]`` (K, K) over the val split (centre crop)."""
    k = len(dataset.classes)
    cm = np.zeros((k, k), dtype=np.int64)
    loader = BatchLoader(dataset, split="val", batch_size=batch_size,
                         crop_size=stepper.model.cfg.input_size, train=False, scale=scale,
                         prefetch=False)
    for x, y in loader:
        pred = np.argmax(stepper.logits(x), axis=1)
        np.add.at(cm, (y, pred), 1)
    return cm


def confusion_matrix_figure(stepper, dataset, scale, out_png):
    """Draw the val confusion matrix (rows: true class, normalised per row). Returns it."""
    cm = confusion_matrix(stepper, dataset, scale)
    classes = list(dataset.classes)
    k = len(classes)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    size = min(14, 3 + 0.55 * k)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if k <= 30:
        ax.set_xticks(range(k), classes, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(k), classes, fontsize=8)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                            color="white" if rates[i, j] > 0.5 else "black")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"confusion matrix, {cm.sum()} val images (top-1 error {1 - acc:.2%})")
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    return cm


# --------------------------------------------------------------------------------------
# Grad-CAM on conv5 (for `predict --explain`)
# --------------------------------------------------------------------------------------


def gradcam(model, x_chw, class_index=None, layer="relu5"):
    """Grad-CAM on conv5's ReLU output for one preprocessed image ``x_chw`` (3, H, W).

    Forward in eval mode, keeping ``A`` = the output of ``layer`` (C, h, w); backward from a
    one-hot gradient on the logit of ``class_index`` (default: the top class) through the
    layers after ``layer`` only, giving ``g = dlogit / dA``. Then ``w_c = mean_hw g[c]`` and
    ``cam = ReLU(sum_c w_c A[c])`` (h, w), upsampled bilinearly to (H, W) and divided by its
    maximum (all zeros stays all zeros).

    Returns a dict: ``cam`` (H, W) in [0, 1], ``cam_small`` (h, w), ``class_index``,
    ``logits`` (K,), ``weights`` (C,), ``activations`` and ``gradients`` (C, h, w).
    """
    dtype = model.params["conv1.W"].dtype  # float32, or float64 after model.astype
    x = np.asarray(x_chw, dtype=dtype)[None]  # (1, 3, H, W)
    names = [n for n, _ in model.layers]
    if layer not in names:
        raise ValueError(f"gradcam: the model has no layer '{layer}'")
    cut = names.index(layer)
    model.eval()
    a = x
    for name, lyr in model.layers:
        a = lyr.forward(a)
        if name == layer:
            acts = a  # (1, C, h, w)
    logits = a[0]  # (K,)
    c = int(np.argmax(logits)) if class_index is None else int(class_index)
    d = np.zeros_like(a)
    d[0, c] = 1.0
    for _, lyr in reversed(model.layers[cut + 1:]):
        d = lyr.backward(d)
    grads = d[0]  # (C, h, w): dlogit_c / dA
    weights = grads.mean(axis=(1, 2))  # (C,)
    small = np.maximum(np.tensordot(weights, acts[0], axes=1), 0)  # (h, w)
    h, w = x.shape[2:]
    big = np.asarray(Image.fromarray(small.astype(np.float32)).resize(
        (w, h), Image.BILINEAR))  # (H, W)
    big = np.maximum(big, 0)
    top = big.max()
    cam = big / top if top > 0 else big
    return {"cam": cam, "cam_small": small, "class_index": c, "logits": logits,
            "weights": weights, "activations": acts[0], "gradients": grads}


def gradcam_figure(model, x_chw, classes, out_png, title=""):
    """The input (contrast-stretched, since it is mean-subtracted), the Grad-CAM map, and the
    overlay, for the top class. Returns :func:`gradcam`'s dict."""
    if np.asarray(x_chw).ndim != 3:
        raise UserError(f"Grad-CAM needs one image (3, H, W), got shape {np.shape(x_chw)}")
    res = gradcam(model, x_chw)
    img = np.asarray(x_chw, dtype=np.float64).transpose(1, 2, 0)  # (H, W, 3)
    img = (img - img.min()) / max(img.max() - img.min(), 1e-12)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8))
    axes[0].imshow(img)
    axes[0].set_title("input (mean-subtracted, stretched)", fontsize=9)
    axes[1].imshow(res["cam"], cmap="jet", vmin=0, vmax=1)
    axes[1].set_title(f"Grad-CAM on conv5 ({res['cam_small'].shape[0]}x"
                      f"{res['cam_small'].shape[1]} upsampled)", fontsize=9)
    axes[2].imshow(img)
    axes[2].imshow(res["cam"], cmap="jet", alpha=0.45, vmin=0, vmax=1)
    p = np.exp(res["logits"] - res["logits"].max())
    p /= p.sum()
    c = res["class_index"]
    axes[2].set_title(f"class '{classes[c]}' ({p[c]:.1%})", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    return res
