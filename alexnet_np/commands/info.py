"""``alexnet-np info``: the layer table of a preset (output shapes, parameters, multiply-adds)."""

import json

from ..model import PRESETS, AlexNet, get_config, spatial_sizes
from ..train import flag, preset_training
from .common import add_model_switches, model_overrides


def add_parser(sub):
    p = sub.add_parser(
        "info", help="print a preset's layers: output shapes, parameters, multiply-adds",
        description="Print the network of a preset, layer by layer, with each output shape, "
                    "its parameters and multiply-adds per image, and the totals.")
    p.add_argument("--arch", default="paper", help=f"preset: {', '.join(PRESETS)} "
                   "(default paper)")
    p.add_argument("--num-classes", type=int, default=None, help="output classes")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    add_model_switches(p)
    p.set_defaults(func=run)


def run(args):
    cfg = get_config(args.arch, num_classes=args.num_classes, **model_overrides(args))
    model = AlexNet(cfg)
    if args.json:
        rows = model.summary_rows()
        print(json.dumps({
            "arch": cfg.name, "input_shape": [cfg.in_channels, cfg.input_size, cfg.input_size],
            "num_classes": cfg.num_classes,
            "total_params": sum(r[3] for r in rows), "total_macs": sum(r[4] for r in rows),
            "spatial_sizes": spatial_sizes(cfg),
            "train_defaults": preset_training(args.arch),  # the preset's own, else {}
            "layers": [{"name": n, "type": t, "output_shape": list(s), "params": p,
                        "macs": m} for n, t, s, p, m in rows],
        }))
        return 0
    print(model.summary())
    if cfg.notes:
        print(f"({cfg.notes})")
    own = preset_training(args.arch)
    if own:
        print(f"(its own training defaults in `train`: "
              f"{', '.join(f'{flag(k)} {v}' for k, v in own.items())}; a flag given wins)")
    return 0
