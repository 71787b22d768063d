"""Train a small AlexNet on an image folder you already have (Imagenette, Tiny ImageNet, ...).

    python examples/train_image_folder.py PATH/TO/FOLDER --arch tiny --epochs 10

PATH must hold ``train/<class>/*.jpg`` and ``val/<class>/*.jpg`` (see docs/data.md). Images are
decoded once, resized (shorter side to the preset's stored size, centre crop) and cached as a
memory-mapped uint8 array; later runs start at once.
"""

import argparse
import sys

from alexnet_np.errors import UserError
from alexnet_np.train import TrainSettings, train


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="image folder with train/ and val/")
    p.add_argument("--arch", default="tiny", help="preset (tiny: 64x64 input)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--out", default="runs/image-folder")
    p.add_argument("--max-steps", type=int, default=0, help="stop early (for a smoke test)")
    p.add_argument("--cache-dir", default="")
    args = p.parse_args(argv)
    settings = TrainSettings(data=args.folder, arch=args.arch, epochs=args.epochs,
                             batch_size=args.batch_size, lr=args.lr, out=args.out,
                             max_steps=args.max_steps, cache_dir=args.cache_dir,
                             resume=False)
    try:
        summary = train(settings)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if "final" not in summary:  # --max-steps stopped inside the first epoch
        print(f"stopped at step {summary['step']} (--max-steps); no epoch completed yet")
        return 0
    final = summary["final"]
    print(f"validation top-1 error {final['val_top1_error']:.2%}, "
          f"top-5 error {final['val_top5_error']:.2%}; checkpoints in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
