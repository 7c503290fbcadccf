"""`pip install digsync` from a built wheel works in a clean venv, with its package data.

Offline by design. The wheel is built with ``python -m build --wheel --no-isolation``
from a copy of the source (so the work tree gets no build/ or egg-info), using the
setuptools and wheel already in the dev venv. The clean venv is made with
``python -m venv`` (no system site-packages), and the wheel goes in with
``pip install --no-deps --no-index``: nothing is downloaded. Its runtime dependencies
(PyYAML, httpx, ...) are made importable by a .pth file that appends the dev venv's
site-packages to the clean venv's sys.path. That is robust where a wheel cache is not
(the cache may be empty or pruned), and it keeps the test honest: the clean venv's own
site-packages comes first on sys.path, so ``import digsync`` finds the installed wheel
and never the editable checkout (a .pth file's folders are added without running the
.pth files inside them, so the dev venv's editable finder stays inactive); the test
checks that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from digsync import __version__
from tests.conftest import EXAMPLE, ROOT

PACKAGE_DATA = (
    "digsync/py.typed",
    "digsync/templates/config.yaml",
    "digsync/queries/delta_report.sql",
    "digsync/server/static/index.html",
    "digsync/server/static/app.js",
    "digsync/server/static/app.css",
    "digsync/server/static/favicon.svg",
)


def _check_build_requirements() -> None:
    """Fail clearly when the build backend of pyproject.toml is not installed."""
    from packaging.requirements import Requirement

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    missing = []
    for text in [*pyproject["build-system"]["requires"], "build"]:
        requirement = Requirement(text)
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{text} (not installed)")
            continue
        if installed not in requirement.specifier:
            missing.append(f"{text} (installed: {installed})")
    if missing:
        pytest.fail(
            "the wheel is built offline with the dev venv's build tools, but these are "
            f"missing: {', '.join(missing)}; install them: "
            f"{sys.executable} -m pip install " + " ".join(f"'{m.split(' ')[0]}'" for m in missing)
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _check_build_requirements()
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "digsync", src / "digsync", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(work / "dist"),
        ],
        cwd=src,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (built,) = (work / "dist").glob("*.whl")
    assert built.name == f"digsync-{__version__}-py3-none-any.whl"
    return built


def _source_files() -> Iterator[str]:
    for path in sorted((ROOT / "digsync").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path.relative_to(ROOT).as_posix()


def test_wheel_holds_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in PACKAGE_DATA if name not in names] == []
    runtime = sorted(p.name for p in (ROOT / "digsync" / "runtime").glob("*.py"))
    assert {"__init__.py", "detect.py", "sync.py"} <= set(runtime)
    assert [f"digsync/runtime/{n}" for n in runtime if f"digsync/runtime/{n}" not in names] == []
    assert [name for name in _source_files() if name not in names] == []


def test_wheel_declares_the_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"digsync-{__version__}.dist-info/entry_points.txt")
    assert "digsync = digsync.cli:main" in entry_points.decode()


@pytest.fixture(scope="module")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    cfg = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert "include-system-site-packages = false" in cfg
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dev_site = sysconfig.get_path("purelib")
    (Path(purelib) / "zz_digsync_dev_dependencies.pth").write_text(dev_site + "\n")
    return venv


def _env() -> dict[str, str]:
    """The environment without anything that would put the checkout on sys.path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_installed_wheel_runs_version(clean_venv: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(clean_venv / "bin" / "digsync"), "--version"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"digsync {__version__}\n"


def test_installed_wheel_imports_itself_not_the_checkout(clean_venv: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(clean_venv / "bin" / "python"), "-c", "import digsync; print(digsync.__file__)"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()).is_relative_to(clean_venv), out.stdout


def test_installed_wheel_renders_from_its_package_data(clean_venv: Path, tmp_path: Path) -> None:
    """init reads the template, generate copies the query and the runtime tasks."""
    digsync = str(clean_venv / "bin" / "digsync")
    init = subprocess.run(
        [digsync, "init"], cwd=tmp_path, env=_env(), capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "config.yaml").read_bytes() == EXAMPLE.read_bytes()
    generate = subprocess.run(
        [digsync, "generate", "--project-dir", "out"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert generate.returncode == 0, generate.stderr
    project = tmp_path / "out" / "semantic_layer_sync"
    sql = (ROOT / "digsync" / "queries" / "delta_report.sql").read_bytes()
    assert (project / "queries" / "delta_report.sql").read_bytes() == sql
    assert (project / "digsync_tasks" / "__init__.py").is_file()
    lint = subprocess.run(
        [digsync, "lint", "--profile", "td", str(project)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_missing_build_tools_fail_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def version(name: str) -> str:
        if name == "wheel":
            raise metadata.PackageNotFoundError(name)
        return "1.0" if name == "setuptools" else "99"

    monkeypatch.setattr(metadata, "version", version)
    with pytest.raises(pytest.fail.Exception) as failure:
        _check_build_requirements()
    message = str(failure.value)
    assert "setuptools>=77 (installed: 1.0), wheel (not installed)" in message
    assert f"{sys.executable} -m pip install 'setuptools>=77' 'wheel'" in message
