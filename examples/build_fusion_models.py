"""Build the fusion colorizer (Iizuka et al. 2016, VGGFace descriptor) at 256 x 256 with every global extractor and count parameters.

    python examples/build_fusion_models.py               # all extractors (weights=None)
    python examples/build_fusion_models.py vggface none  # some of them

The extractor is frozen, so "trainable" is what training updates; pretrained
extractor weights are loaded as a separate step, e.g.
``colorize.models.extractors.load_extractor_weights(model, "vggface", "vggface")``
with ``rcmalli_vggface_tf_vgg16.h5`` in ``~/.keras/models``.
"""

import argparse

from colorize import models
from colorize.models import extractors


def count(weights) -> int:
    return sum(int(weight.numpy().size) for weight in weights)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("extractor", nargs="*", default=list(extractors.EXTRACTORS), help="extractors to build")
    parser.add_argument("--image-size", type=int, default=256, help="colorizer input size [256]")
    args = parser.parse_args()

    print(f"{'extractor':<20} {'input':>5} {'vector':>6} {'total':>12} {'trainable':>12} {'non-trainable':>14}")
    for name in args.extractor:
        spec = extractors.get_extractor(name)
        model = models.build_model("fusion", image_size=args.image_size, extractor=name)
        trainable = count(model.trainable_weights)
        total = model.count_params()
        print(f"{name:<20} {spec.input_size:>5} {spec.output_size:>6} {total:>12,} {trainable:>12,} {total - trainable:>14,}")


if __name__ == "__main__":
    main()
