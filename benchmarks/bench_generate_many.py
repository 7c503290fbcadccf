"""One `digsync generate` over 1,000 config files, interpreter start included (goal < 1 s).

--baseline (or BENCH_WITH_BASELINE=1) first prints the figures of the baseline revision.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import BIN, EXAMPLE, time_command, with_baseline

COUNT = 1000


def main() -> None:
    template = EXAMPLE.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        args = [str(BIN / "digsync"), "generate", "--project-dir", str(root / "out")]
        for i in range(COUNT):
            path = root / f"c{i:04d}.yaml"
            path.write_text(
                template.replace("project: semantic_layer_sync", f"project: project_{i:04d}"),
                encoding="utf-8",
            )
            args += ["--config", str(path)]
        first = time_command(args, repeat=1)
        again = time_command(args, repeat=3)
        check = time_command([*args, "--check"], repeat=3)
    print(f"generate {COUNT} configs, files written:    {first:6.2f} s")
    print(f"generate {COUNT} configs, all identical:    {again:6.2f} s")
    print(f"generate --check {COUNT} configs:           {check:6.2f} s")


if __name__ == "__main__":
    with_baseline(main, "bench_generate_many.py")
