"""``alexnet-np evaluate``: top-1/top-5 error of a checkpoint on a validation split."""

import json

from ..errors import UserError
from ..train import evaluate, load_data, load_for_inference
from .common import check_output_file, positive_int


def add_parser(sub):
    p = sub.add_parser(
        "evaluate", help="top-1 / top-5 error and loss of a checkpoint on validation data",
        description="Evaluate a checkpoint on the validation split of --data, or of the data "
                    "it was trained on (recorded in the checkpoint).")
    p.add_argument("--checkpoint", required=True, metavar="FILE", help="a .npz checkpoint")
    p.add_argument("--data", default=None, help="dataset (default: the checkpoint's own)")
    p.add_argument("--ten-crop", action="store_true",
                   help="average the softmax over ten views (corners, centre, mirrors)")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    p.add_argument("--confusion", metavar="PNG", default=None,
                   help="also write a confusion-matrix figure")
    p.set_defaults(func=run)


def dataset_for(meta, data=None, verbose=True):
    """The checkpoint's dataset (or ``data``), at the image size the model was trained on."""
    settings = meta.get("settings")
    settings = settings if isinstance(settings, dict) else {}  # best.npz of another tool
    spec = data or meta["data"]["source"]
    return load_data(spec, meta["data"]["image_size"], seed=settings.get("seed", 0),
                     synthetic_train=settings.get("synthetic_train", 5000),
                     synthetic_val=settings.get("synthetic_val", 1000),
                     cache_dir=settings.get("cache_dir", ""), verbose=verbose)


def run(args):
    if args.confusion:
        check_output_file(args.confusion, "--confusion")
    model, stepper, meta, _ = load_for_inference(args.checkpoint, args.device, fast=True)
    ds = dataset_for(meta, args.data, verbose=not args.json)
    if list(ds.classes) != list(meta["classes"]):
        raise UserError(f"the data has classes {ds.classes[:5]}... but the checkpoint was "
                        f"trained on {meta['classes'][:5]}...; evaluate on the same classes")
    result = evaluate(stepper, ds, batch_size=args.batch_size, ten_crop=args.ten_crop,
                      scale=model.cfg.input_scale, progress=not args.json)
    if args.confusion:
        # matplotlib: imported only when a figure is asked for (CLI start-up time)
        from ..tools.visualize import confusion_matrix_figure
        confusion_matrix_figure(stepper, ds, model.cfg.input_scale, args.confusion)
    if args.json:
        print(json.dumps(result))
    else:
        views = "ten-crop" if args.ten_crop else "centre crop"
        print(f"{result['n_images']} validation images ({views}): top-1 error "
              f"{result['top1_error']:.2%}, top-5 error {result['top5_error']:.2%}, "
              f"loss {result['loss']:.4f}")
    return 0
