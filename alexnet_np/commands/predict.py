"""``alexnet-np predict``: the five most probable classes for each image."""

import json
import os

import numpy as np

from ..data import preprocess_image
from ..errors import UserError
from ..layers import softmax
from ..train import load_for_inference
from .common import check_output_file, positive_int


def add_parser(sub):
    p = sub.add_parser("predict", help="classify image files with a checkpoint (top 5)",
                       description="Print the five most probable classes, with probabilities, "
                                   "for each image (resized and centre-cropped as in training).")
    p.add_argument("--checkpoint", required=True, metavar="FILE")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--top", type=positive_int, default=5,
                   help="how many classes to show (default 5; at most the number of classes)")
    p.add_argument("--json", action="store_true", help="one JSON line per image")
    p.add_argument("--explain", metavar="PNG", default=None,
                   help="also write a Grad-CAM map on conv5 (one image only)")
    p.set_defaults(func=run)


def load_images(paths, meta, mean_image, cfg):
    xs = []
    for path in paths:
        if not os.path.lexists(path):
            raise UserError(f"image '{path}' does not exist")
        try:
            xs.append(preprocess_image(path, meta["data"]["image_size"], cfg.input_size,
                                       mean_image, cfg.input_scale))
        except UserError:
            raise
        except Exception as err:
            raise UserError(f"cannot read image '{path}' ({type(err).__name__}: {err})") from None
    return np.stack(xs).astype(np.float32)  # (N, 3, input, input)


def run(args):
    if args.explain:
        if len(args.images) != 1:
            raise UserError("--explain works on one image at a time")
        check_output_file(args.explain, "--explain")
    model, stepper, meta, mean_image = load_for_inference(args.checkpoint, args.device,
                                                          fast=True)
    x = load_images(args.images, meta, mean_image, model.cfg)
    probs = softmax(stepper.logits(x).astype(np.float64))
    classes = meta["classes"]
    k = min(args.top, len(classes))
    for path, p in zip(args.images, probs, strict=True):
        top = np.argsort(-p)[:k]
        if args.json:
            print(json.dumps({"image": path, "top": [{"class": classes[i],
                                                      "probability": float(p[i])}
                                                     for i in top]}))
        else:
            print(path)
            for rank, i in enumerate(top, 1):
                print(f"  {rank}. {classes[i]:<24} {p[i]:7.2%}")
    if args.explain:
        # matplotlib: imported only when a figure is asked for (CLI start-up time)
        from ..tools.visualize import gradcam_figure
        gradcam_figure(model, x[0], classes, args.explain, args.images[0])
        print(f"Grad-CAM written to {args.explain}")
    return 0
