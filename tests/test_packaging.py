"""The built wheel (`pip install` of it) works in a clean venv, with its package data.

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
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from email.message import Message
from email.parser import HeaderParser
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
    # every ES module the page imports (app.js is the entry)
    *sorted(
        f"digsync/server/static/{p.name}" for p in (ROOT / "digsync/server/static").glob("*.js")
    ),
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
    for name in ("pyproject.toml", "README.md", "LICENSE"):
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


@pytest.mark.slow
def test_wheel_holds_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in PACKAGE_DATA if name not in names] == []
    runtime = sorted(p.name for p in (ROOT / "digsync" / "runtime").glob("*.py"))
    assert {"__init__.py", "detect.py", "sync.py"} <= set(runtime)
    assert [f"digsync/runtime/{n}" for n in runtime if f"digsync/runtime/{n}" not in names] == []
    assert [name for name in _source_files() if name not in names] == []


@pytest.mark.slow
def test_wheel_declares_the_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(f"digsync-{__version__}.dist-info/entry_points.txt")
    assert "digsync = digsync.cli:main" in entry_points.decode()
    assert "digsync-hook = digsync.cli.hooks:main" in entry_points.decode()


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


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- metadata: license, URLs, the serve extra ---------------------------------------

SERVE_STACK = ("fastapi", "uvicorn", "anyio")


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def headers(meta: Message, name: str) -> list[str]:
    """Every value of one METADATA field; there must be at least one."""
    values = meta.get_all(name)
    assert values is not None, f"METADATA has no {name}"
    return values


@pytest.mark.slow
def test_wheel_metadata_declares_license_urls_and_the_serve_extra(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        info = f"digsync-{__version__}.dist-info"
        meta = HeaderParser().parsestr(archive.read(f"{info}/METADATA").decode())
        assert archive.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    urls = {label: url for label, url in (u.split(", ", 1) for u in headers(meta, "Project-URL"))}
    assert {"Homepage", "Source", "Issues", "Documentation", "Changelog"} <= set(urls)
    classifiers = headers(meta, "Classifier")
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert "Typing :: Typed" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")], "License-Expression"
    assert meta.get_all("Provides-Extra") == ["serve"]
    requires = headers(meta, "Requires-Dist")
    core = [r for r in requires if "extra ==" not in r]
    serve = [r for r in requires if 'extra == "serve"' in r]
    assert not [r for r in core if r.lower().startswith(SERVE_STACK)], core
    assert sorted(r.split("<")[0].split(">")[0] for r in serve) == sorted(SERVE_STACK)
    for requirement in requires:  # ranges, not pins: the locks pin
        assert "==" not in requirement.split(";")[0], requirement


def test_license_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert _pyproject()["project"]["license"] == "Apache-2.0"  # type: ignore[index]
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    for section in range(1, 10):
        assert f"\n   {section}. " in text, f"section {section}"
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text
    assert len(text.split()) > 1500


# --- hashed locks -------------------------------------------------------------------

LOCKS = ("requirements.lock", "requirements-dev.lock", "requirements-build.lock",
         "requirements-e2e.lock")  # fmt: skip


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(name: str) -> dict[str, str]:
    """{package: version} of a lock file; every entry pinned with == and hashed."""
    text = (ROOT / name).read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = " ".join(line.split("#", 1)[0].split())
        if not line:
            continue
        found = re.fullmatch(
            r"([A-Za-z0-9][\w.-]*)==(\S+)(?: ;[^-]*)?((?: --hash=sha256:[0-9a-f]{64})+)", line
        )
        assert found, f"{name}: not a hashed pin: {line[:120]}"
        pins[_canonical(found.group(1))] = found.group(2)
    assert pins, name
    return pins


def _group(name: str) -> list[str]:
    """A dependency group's requirements, include-group resolved (PEP 735)."""
    groups = _pyproject()["dependency-groups"]
    assert isinstance(groups, dict)
    out: list[str] = []
    for item in groups[name]:
        out += _group(item["include-group"]) if isinstance(item, dict) else [item]
    return out


def test_locks_are_hashed_pins() -> None:
    for name in LOCKS:
        locked(name)


def test_locks_meet_pyproject() -> None:
    from packaging.requirements import Requirement

    project = _pyproject()["project"]
    assert isinstance(project, dict)
    runtime = [*project["dependencies"], *project["optional-dependencies"]["serve"]]
    for lock, requirements in [
        ("requirements.lock", runtime),
        ("requirements-dev.lock", [*runtime, *_group("dev")]),
        ("requirements-build.lock", _group("build")),
        ("requirements-e2e.lock", _group("e2e")),
    ]:
        pins = locked(lock)
        for text in requirements:
            requirement = Requirement(text)
            version = pins.get(_canonical(requirement.name))
            assert version is not None, f"{lock} lacks {text}: run make lock"
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} has {requirement.name}=={version}, outside {text}: run make lock"
            )
    for text in _group("dev") + _group("build") + _group("e2e"):  # tools: exact pins
        assert re.fullmatch(r"[\w.-]+==[\w.]+", text), text


def test_locks_agree_and_the_dev_lock_holds_what_ships() -> None:
    """What the tests run (dev lock) is what the image and make run install."""
    dev = locked("requirements-dev.lock")
    for name in ("requirements.lock", "requirements-build.lock"):
        pins = locked(name)
        assert {p: v for p, v in pins.items() if dev.get(p) != v} == {}, name


def test_makefile_and_dockerfile_install_hashed_locks_only() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [
        line.split("install", 1)[1].split()
        for line in makefile.replace("\\\n", " ").splitlines()
        if re.match(r"\t\$\(PIP\) install ", line)
    ]
    assert installs, "the Makefile installs nothing with $(PIP)"
    for args in installs:
        assert "--require-hashes" in args or args[-3:] == ["--no-build-isolation", "-e", "."], args
    assert "pip install --require-hashes -r requirements.lock" not in makefile  # via $(PIP)
    for lock in ("requirements.lock", "requirements-build.lock", "requirements-dev.lock",
                 "requirements-e2e.lock"):  # fmt: skip
        assert f"-r {lock}" in makefile, lock
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-build.lock" in dockerfile
    assert "--require-hashes -r /tmp/requirements.lock" in dockerfile


# --- install instructions -----------------------------------------------------------

INSTRUCTION_FILES = sorted(
    [ROOT / "README.md", ROOT / "Dockerfile", *(ROOT / "docs").rglob("*.md")]
    + [p for p in (ROOT / "examples").rglob("*") if p.is_file()]
)


def bare_installs(text: str) -> list[str]:
    """pip install arguments that name digsync from an index (no direct reference):
    ``digsync``, ``digsync==0.1.0``, ``'digsync[serve]'``, ``digsync>=0.1``."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        for match in re.finditer(r"pip3?\s+install\s+(.*)", line):
            try:
                words = shlex.split(match.group(1), comments=True)
            except ValueError:
                words = match.group(1).split()
            for word in words:
                if word in ("&&", "||", ";", "|") or word.startswith("`"):
                    break
                if re.match(r"digsync(\[[^\]]*\])?\s*([=<>~!].*)?$", word) and "@" not in word:
                    found.append(word)
    return found


def test_bare_installs_finds_index_installs_only() -> None:
    text = (
        "$ pip install digsync\n"
        'run: python -m pip install "digsync==${V}" && echo\n'
        "pip install 'digsync[serve]'\n"
        '$ pip install "digsync @ git+https://github.com/o/digsync@0123abc"\n'
        "pip install -e . && pip install /wheels/digsync-0.1.0-py3-none-any.whl\n"
        "pip install --require-hashes -r requirements.lock\n"
    )
    assert bare_installs(text) == ["digsync", "digsync==${V}", "digsync[serve]"]


@pytest.mark.parametrize("path", INSTRUCTION_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_instruction_installs_digsync_by_name_from_pypi(path: Path) -> None:
    """digsync is not on PyPI: whatever claims the name there would run with TD_API_KEY.
    Install instructions name the repository at a pinned commit instead."""
    assert bare_installs(path.read_text(encoding="utf-8", errors="replace")) == []


# --- light installs: the serve stack is imported only by serve ----------------------

_HEAVY = ("fastapi", "uvicorn", "anyio", "starlette", "pydantic")


def test_validate_lint_and_generate_import_no_server_stack(tmp_path: Path) -> None:
    code = f"""
import sys
from digsync.cli import main
from digsync.cli.hooks import main as hook
example = {str(EXAMPLE)!r}
assert main(["validate", "--config", example]) == 0
assert main(["generate", "--config", example, "--project-dir", "out"]) == 0
assert main(["lint", "--profile", "td", "out/semantic_layer_sync"]) == 0
assert main(["schedule", "--config", example]) == 0
assert hook(["generate-check", "--config", example, "--project-dir", "out"]) == 0
import digsync.editor.service  # digsync watch's code
print(sorted(m for m in sys.modules if m.partition(".")[0] in {_HEAVY!r}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "[]"


_BLOCK = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {_HEAVY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Missing())
"""


def test_serve_without_the_extra_names_it(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "config.yaml")
    code = _BLOCK + "from digsync.cli import main\nsys.exit(main(['serve']))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "error: digsync serve needs the serve extra (uvicorn is not installed): "
        "pip install 'digsync[serve]'\n"
    )


def test_watch_and_validate_run_without_the_extra(tmp_path: Path) -> None:
    code = _BLOCK + (
        f"from digsync.cli import main\n"
        f"import digsync.editor.service\n"
        f"sys.exit(main(['validate', '--config', {str(EXAMPLE)!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
