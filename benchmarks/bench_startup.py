"""Start-up: one `digsync generate` of one config versus starting Python itself."""

from __future__ import annotations

import sys
import tempfile

from _common import BIN, EXAMPLE, time_command


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        python = time_command([sys.executable, "-c", "pass"], repeat=21)
        version = time_command([str(BIN / "digsync"), "--version"], repeat=21)
        generate = time_command(
            [str(BIN / "digsync"), "generate", "--config", str(EXAMPLE), "--project-dir", tmp],
            repeat=21,
        )
    print(f"python -c pass:                 {python * 1000:7.1f} ms")
    print(
        f"digsync --version:              {version * 1000:7.1f} ms  "
        f"({version / python:.2f}x python)"
    )
    print(
        f"digsync generate (one config):  {generate * 1000:7.1f} ms  "
        f"({generate / python:.2f}x python)"
    )


if __name__ == "__main__":
    main()
