"""Rendering time per workflow, in process (target: well under 1 ms)."""

from __future__ import annotations

from _common import EXAMPLE, time_calls

from digsync.config.model import load_config
from digsync.render.project import render_project


def main() -> None:
    config = load_config(EXAMPLE)
    render = time_calls(lambda: render_project(config, "config.yaml"), repeat=2000)
    load = time_calls(lambda: load_config(EXAMPLE), repeat=2000)
    both = time_calls(lambda: render_project(load_config(EXAMPLE), "config.yaml"), repeat=2000)
    print(f"render one workflow (project files):   {render * 1e6:8.1f} us")
    print(f"load + check config.yaml:              {load * 1e6:8.1f} us")
    print(f"load + check + render:                 {both * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
