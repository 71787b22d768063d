"""``alexnet-np visualize``: the paper's figures from a checkpoint or a run folder.

    visualize filters   --checkpoint F --out FILE.png     conv1 kernels per half (Fig. 3)
    visualize neighbors --checkpoint F --out FILE.png     nearest neighbours in fc7 (Fig. 4)
    visualize curves    RUN_DIR [--out FILE.png]          loss and validation error curves
    visualize health    [--arch A] [--init I] [--steps N] --out FILE.png
                                                          per-layer statistics of a short run
"""

import os

import numpy as np

from ..checkpoint import read_metrics
from ..errors import UserError
from ..model import AlexNet, config_from_dict
from ..train import load_for_inference
from .common import check_output_file, nonnegative_int, positive_int
from .evaluate import dataset_for


def add_parser(sub):
    p = sub.add_parser("visualize", help="draw the paper's figures: conv1 filters, nearest "
                       "neighbours in fc7 space, training curves",
                       description="Figures from a checkpoint (filters, neighbors) or a run "
                                   "folder (curves); each also prints a text version.")
    vs = p.add_subparsers(dest="figure", metavar="FIGURE")
    vs.required = True

    f = vs.add_parser("filters", help="conv1 kernels split into the halves that feed the two "
                      "groups (Fig. 3), with a colour statistic per half")
    f.add_argument("--checkpoint", required=True, metavar="FILE")
    f.add_argument("--out", required=True, metavar="FILE.png")
    f.set_defaults(func=run_filters)

    n = vs.add_parser("neighbors", help="val images and their nearest training images in fc7 "
                      "space (Fig. 4)")
    n.add_argument("--checkpoint", required=True, metavar="FILE")
    n.add_argument("--out", required=True, metavar="FILE.png")
    n.add_argument("--data", default=None, help="dataset (default: the checkpoint's own)")
    n.add_argument("--queries", type=positive_int, default=6,
                   help="how many val images (default 6)")
    n.add_argument("--k", type=positive_int, default=5,
                   help="neighbours per query (default 5, as in the paper)")
    n.add_argument("--max-train", type=int, default=0,
                   help="search only the first N training images (default all)")
    n.add_argument("--seed", type=nonnegative_int, default=0,
                   help="which val images are drawn")
    n.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    n.set_defaults(func=run_neighbors)

    c = vs.add_parser("curves", help="training loss and validation error of a run folder")
    c.add_argument("run_dir", metavar="RUN_DIR")
    c.add_argument("--out", default=None, metavar="FILE.png",
                   help="default RUN_DIR/curves.png")
    c.set_defaults(func=run_curves)

    from ..train import TrainSettings
    from .train import preset_note
    d = TrainSettings()
    h = vs.add_parser("health", help="train a few hundred steps and plot per-layer activation "
                      "mean/std, dead ReLUs, gradient std and update/weight ratio",
                      description="Runs its own short training with the same recipe as "
                                  "`train` (same defaults) and plots, per layer and step, the "
                                  "statistics that show why a deep net sits at ln(classes). "
                                  "Writes FILE.png and FILE.json; prints a summary.")
    h.add_argument("--out", required=True, metavar="FILE.png")
    h.add_argument("--arch", default=d.arch, help=f"preset (default {d.arch})")
    h.add_argument("--data", default=d.data, help=f"data set (default {d.data})")
    h.add_argument("--init", choices=["paper", "kaiming"], default=None,
                   help="initialisation (default: the preset's)")
    h.add_argument("--activation", choices=["relu", "tanh"], default=None)
    h.add_argument("--input-scale", type=float, default=None,
                   help="multiplies the centred pixels (default: the preset's)")
    h.add_argument("--lr", type=float, default=None,
                   help=f"learning rate (default {d.lr}{preset_note('lr')})")
    h.add_argument("--warmup", type=int, default=None, metavar="STEPS",
                   help=f"linear warm-up steps (default {d.warmup_steps}"
                        f"{preset_note('warmup_steps')})")
    h.add_argument("--dropout-ramp", type=int, default=d.dropout_ramp_steps, metavar="STEPS",
                   help=f"dropout ramp steps (default {d.dropout_ramp_steps})")
    h.add_argument("--no-calibrate", action="store_true",
                   help="plain Kaiming draws (no calibration on training images)")
    h.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    h.add_argument("--steps", type=positive_int, default=300, help="SGD steps (default 300)")
    h.add_argument("--seed", type=int, default=d.seed)
    h.add_argument("--no-flip", action="store_true", help="no random horizontal reflections")
    h.set_defaults(func=run_health)


def run_filters(args):
    # matplotlib: imported only when a figure is asked for (CLI start-up time)
    from ..tools.visualize import filters_figure

    check_output_file(args.out)
    model, _, meta, _ = load_for_inference(args.checkpoint, fast=True)  # arrays checked
    W = model.params["conv1.W"]  # (K, 3, kh, kw)
    grouped = bool(meta.get("model", {}).get("grouped", True))
    name = meta.get("model", {}).get("name", "?")
    stats = filters_figure(W, args.out, grouped,
                           title=f"conv1 kernels of '{name}' after {meta.get('epoch', '?')} "
                                 f"epoch(s): {W.shape[0]} x {'x'.join(map(str, W.shape[1:]))}")
    print(f"conv1: {W.shape[0]} kernels of {'x'.join(map(str, W.shape[1:]))}")
    if not grouped:
        print("this network has no groups (one tower): conv1's maps are not split")
    for st in stats:
        print(f"  {st['title']}: mean colour fraction {st['mean_colour_fraction']:.3f}, "
              f"{st['colour_kernels']}/{st['count']} kernels with colour fraction > 0.5")
    if len(stats) == 2:
        a, b = (st["mean_colour_fraction"] for st in stats)
        if abs(a - b) < 0.05:
            print("  the two halves are about equally colour-specific (paper, Fig. 3: the "
                  "first half, on GPU 1, is largely colour-agnostic)")
        else:
            more = "first" if a < b else "second"
            print(f"  the {more} half is the more colour-agnostic one (paper, Fig. 3: the "
                  "first half, on GPU 1, is largely colour-agnostic)")
    print("  (colour fraction: share of a kernel's energy that differs between R, G and B; "
          "0 = grey; a random, untrained kernel averages 2/3)")
    moved = _distance_from_init(W, meta)
    if moved is not None:
        init_stats, rel = moved
        print("  at initialisation (rebuilt from the run's seed) the halves had: "
              + ", ".join(f"{st['mean_colour_fraction']:.3f}" for st in init_stats)
              + f"; training moved conv1 by {rel:.1%} of its initial norm")
        if rel < 0.25:
            print("  -> conv1 is still close to its random initialisation: the picture shows "
                  "mostly the initial draw, not learned filters")
    print(f"figure written to {args.out}")
    return 0


def _distance_from_init(W, meta):
    """(per-half stats of conv1 at initialisation, ||W - W0|| / ||W0||), rebuilding W0 the way
    ``alexnet_np.train`` does (``AlexNet(cfg, rng=default_rng(seed))``); None if unknown."""
    # matplotlib: imported only when a figure is asked for (CLI start-up time)
    from ..tools.visualize import filter_stats

    try:
        cfg = config_from_dict(meta["model"])
        seed = int(meta["settings"]["seed"])
        W0 = AlexNet(cfg, rng=np.random.default_rng(seed)).params["conv1.W"]
    except Exception:  # a foreign or older checkpoint: just skip the remark
        return None
    if W0.shape != W.shape:
        return None
    rel = float(np.linalg.norm(W - W0) / max(np.linalg.norm(W0), 1e-30))
    return filter_stats(W0, cfg.grouped), rel


def run_neighbors(args):
    # matplotlib: imported only when a figure is asked for (CLI start-up time)
    from ..tools.visualize import neighbors, neighbors_figure, neighbors_text

    check_output_file(args.out)
    model, stepper, meta, _ = load_for_inference(args.checkpoint, args.device, fast=True)
    ds = dataset_for(meta, args.data, verbose=False)
    if list(ds.classes) != list(meta["classes"]):
        raise UserError(f"the data has classes {ds.classes[:5]}... but the checkpoint was "
                        f"trained on {meta['classes'][:5]}...; use the same classes")
    n_val = len(ds.val_labels)
    rng = np.random.default_rng(args.seed)
    queries = np.sort(rng.choice(n_val, size=min(args.queries, n_val), replace=False))
    results = neighbors(stepper, ds, queries, k=args.k, scale=model.cfg.input_scale,
                        max_train=args.max_train)
    searched = min(args.max_train, len(ds.train_labels)) if args.max_train else len(
        ds.train_labels)
    print(f"nearest neighbours in fc7 space (Euclidean, {model.cfg.hidden[-1]}-d) among "
          f"{searched} training images:")
    for line in neighbors_text(results, ds.classes):
        print(line)
    same = sum(sum(lab == r["query_label"] for lab in r["labels"]) for r in results)
    total = sum(len(r["labels"]) for r in results)
    print(f"{same}/{total} neighbours share the query's class")
    neighbors_figure(ds, results, ds.classes, args.out)
    print(f"figure written to {args.out}")
    return 0


def run_curves(args):
    # matplotlib: imported only when a figure is asked for (CLI start-up time)
    from ..tools.plots import plot_curves

    if not os.path.isfile(os.path.join(args.run_dir, "metrics.jsonl")):
        raise UserError(f"{args.run_dir} has no metrics.jsonl; pass a run folder written by "
                        "`alexnet-np train`")
    if args.out:
        check_output_file(args.out)
    epochs = [r for r in read_metrics(args.run_dir) if r.get("type") == "epoch"]
    for r in epochs:
        print(f"epoch {r['epoch']}: train loss {r['loss']:.4f}, val top-1 error "
              f"{r['val_top1_error']:.2%}, top-5 error {r['val_top5_error']:.2%}")
    out = plot_curves(args.run_dir, args.out)
    print(f"figure written to {out}")
    return 0


def run_health(args):
    from ..tools.health import health_run, summarize, write_health
    from ..train import preset_settings
    from .train import default_flip

    check_output_file(args.out)
    overrides = {k: v for k, v in (("init", args.init), ("activation", args.activation),
                                   ("input_scale", args.input_scale)) if v is not None}
    if args.no_calibrate:
        overrides["init_calibrate"] = False
    given = {k: v for k, v in (("lr", args.lr), ("warmup_steps", args.warmup))
             if v is not None}  # else the preset's own training default, as in `train`
    settings = preset_settings(args.arch, data=args.data, batch_size=args.batch_size,
                               dropout_ramp_steps=args.dropout_ramp,
                               seed=args.seed, model_overrides=overrides,
                               flip=not args.no_flip and default_flip(args.data)[0], **given)
    record = health_run(settings, steps=args.steps, log=lambda m: print(m, flush=True))
    for line in summarize(record):
        print(line)
    png, js = write_health(record, args.out)
    print(f"figure written to {png}, numbers to {js}")
    return 0
