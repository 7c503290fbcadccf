"""A stand-in for the real ``tdx`` CLI that refuses what tdx refuses.

* ``tdx wf push [DIR] [-y|--yes] [--revision R]``: DIR (default: the working folder) or a
  parent must hold ``tdx.json`` (else "Error: No tdx.json found", exit 1); its
  ``workflow_project`` must exist (else "Error: No workflow project found", exit 1);
  without ``-y`` it prints the prompt and waits on it, as tdx does.
* ``tdx wf upload DIR --name NAME [--revision R]``: creates the project.
* a leading ``--profile NAME`` is taken, as a global option.

Every call is appended to ``$TDX_LOG`` as one JSON line: the arguments, the working
folder, the files pushed, the profile and whether TDX_API_KEY was set. Projects live in
``$FAKE_TDX_STATE`` (one folder each). ``FAKE_TDX_FAIL=CODE`` makes push fail.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

SCRIPT = r"""
import json, os, sys, time
from pathlib import Path

args = sys.argv[1:]
profile = None
if args[:1] == ["--profile"]:
    profile, args = args[1], args[2:]
state = Path(os.environ["FAKE_TDX_STATE"])
state.mkdir(parents=True, exist_ok=True)


def option(name):
    return args[args.index(name) + 1] if name in args else None


def positional():
    taken = {args.index(n) + 1 for n in ("--revision", "--name") if n in args}
    return [a for i, a in enumerate(args[2:], 2) if not a.startswith("-") and i not in taken]


def listing(folder):
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "tdx.json"]
    return sorted(str(p.relative_to(folder)) for p in files)


def log(**entry):
    with open(os.environ["TDX_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"args": sys.argv[1:], "cwd": os.getcwd(), "profile": profile,
                            "api_key": bool(os.environ.get("TDX_API_KEY")), **entry}) + "\n")


if args[:2] == ["wf", "push"]:
    dirs = positional()
    folder = Path(dirs[0] if dirs else os.getcwd()).resolve()
    found = next((d for d in (folder, *folder.parents) if (d / "tdx.json").is_file()), None)
    if found is None:
        log(outcome="no tdx.json")
        print("Error: No tdx.json found", file=sys.stderr)
        sys.exit(1)
    project = json.loads((found / "tdx.json").read_text())["workflow_project"]
    if not (state / project).is_dir():
        log(outcome="no project")
        print("Error: No workflow project found", file=sys.stderr)
        sys.exit(1)
    print(f"Project: {project}")
    print(f"Changes: +{len(listing(found))} files")
    if not ({"-y", "--yes"} & set(args)):
        log(outcome="prompt")
        print("? Push these changes? (y/N) ", end="", flush=True)
        time.sleep(3600)  # tdx waits for an answer on its prompt
    if os.environ.get("FAKE_TDX_FAIL"):
        log(outcome="fail")
        print("Error: server refused the push", file=sys.stderr)
        sys.exit(int(os.environ["FAKE_TDX_FAIL"]))
    revision = option("--revision") or "auto"
    (state / project / revision).write_text("\n".join(listing(found)))
    log(outcome="pushed", project=project, revision=revision, files=listing(found))
    print(f"Pushed {project} revision {revision}")
elif args[:2] == ["wf", "upload"]:
    (folder,) = positional()
    name = option("--name") or Path(folder).name
    (state / name).mkdir(exist_ok=True)
    revision = option("--revision") or "auto"
    (state / name / revision).write_text("\n".join(listing(Path(folder))))
    log(outcome="uploaded", project=name, revision=revision, files=listing(Path(folder)))
    print(f"Uploaded {name} revision {revision}")
else:
    print(f"Error: unknown command: {' '.join(args)}", file=sys.stderr)
    sys.exit(2)
"""


def install(folder: Path) -> Path:
    """Write the fake as ``folder/tdx`` (run by this interpreter) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "tdx"
    script.write_text(f"#!{sys.executable}\n{SCRIPT}", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script
