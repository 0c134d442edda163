"""Draw computation graphs with their gradients: the pictures of docs/graphs.md.

Renders, into docs/images/ by default:

  (a) neuron.svg      one neuron tanh(w·x + b), every value and gradient printed
      neuron_before_backward.svg   the same graph drawn too early: no gradients yet
      neuron_step_1.svg ...        its backward pass, one frame per step
  (b) regression.svg  the x² regression network, every operation in its module's cluster
  (c) mnist.svg       an MNIST MLP with each module collapsed to one node
  (d) vanishing.svg   a deep sigmoid network next to the same network with ReLU

The models are in tinygrad_edu/graph/gallery.py (a few lines each);
``python -m tinygrad_edu.graph NAME --out FILE`` renders one of them.

    python examples/draw_graphs.py
    python examples/draw_graphs.py --out-dir /tmp/graphs --format png
    python examples/draw_graphs.py --help
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_edu import draw
from tinygrad_edu.graph import backward_frames
from tinygrad_edu.graph.gallery import EXAMPLES, neuron


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path("docs/images"), help="where to write the images")
    parser.add_argument("--format", choices=("svg", "png", "pdf"), default="svg", help="image format")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)

    def save(drawing, name: str) -> None:
        path = args.out_dir / f"{name}.{args.format}"
        drawing.render(outfile=path, cleanup=True)
        print(f"wrote {path}")

    for name, example in EXAMPLES.items():
        roots = example.build()
        for root in roots:
            root.backward()  # draw after backward: gradients and their colours
        save(draw(roots, **example.options), name)

    neuron_options = EXAMPLES["neuron"].options
    save(draw(neuron(), **neuron_options), "neuron_before_backward")
    (output,) = neuron()
    for number, frame in enumerate(backward_frames(output, **neuron_options), start=1):
        save(frame, f"neuron_step_{number}")


if __name__ == "__main__":
    main()
