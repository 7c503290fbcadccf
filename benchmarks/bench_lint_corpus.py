"""Lint of the whole Digdag conformance corpus (target: under 1 s)."""

from __future__ import annotations

from _common import BIN, ROOT, time_calls, time_command

from digsync.dig.lint.core import lint_paths

SHARED = ROOT.parent / "shared" / "conformance" / "digdag"
CORPUS = SHARED if (SHARED / "manifest.json").is_file() else ROOT / "tests/data/digdag-conformance"


def main() -> None:
    files = sorted(str(p) for p in CORPUS.rglob("*.dig") if "nonworkflow" not in p.parts)
    in_process = time_calls(lambda: lint_paths(files, profile="digdag"), repeat=5)
    td = time_calls(lambda: lint_paths(files, profile="td"), repeat=5)
    command = time_command(
        [str(BIN / "digsync"), "lint", "--profile", "digdag", *files], repeat=3, check=False
    )
    print(f"files: {len(files)}")
    print(f"lint corpus in process (digdag):  {in_process * 1000:7.1f} ms")
    print(f"lint corpus in process (td):      {td * 1000:7.1f} ms")
    print(f"digsync lint command, whole run:  {command * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
