from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from digsync.deploy.archive import ArchiveError, content_hash, pack, revision_name, unpack

FILES = {"semantic_layer_sync.dig": b"timezone: UTC\n", "queries/delta_report.sql": b"select 1\n"}


def test_archive_is_deterministic_and_round_trips() -> None:
    assert pack(FILES) == pack(dict(reversed(list(FILES.items()))))
    assert unpack(pack(FILES)) == dict(sorted(FILES.items()))


def test_archive_members_are_project_relative_regular_files() -> None:
    with tarfile.open(fileobj=io.BytesIO(pack(FILES)), mode="r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["queries/delta_report.sql", "semantic_layer_sync.dig"]
    assert all(m.isreg() and m.mtime == 0 for m in members)


def test_revision_name_comes_from_content() -> None:
    assert revision_name(FILES) == "digsync-" + content_hash(FILES)[:12]
    changed = {**FILES, "semantic_layer_sync.dig": b"timezone: Asia/Tokyo\n"}
    assert revision_name(changed) != revision_name(FILES)


def _tar(add: object) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        add(tar)  # type: ignore[operator]
    return gzip.compress(raw.getvalue())


def test_unpack_refuses_links_and_escaping_paths() -> None:
    def link(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("evil")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)

    def dotdot(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("../x.dig")
        tar.addfile(info, io.BytesIO(b""))

    with pytest.raises(ArchiveError, match="not a regular file"):
        unpack(_tar(link))
    with pytest.raises(ArchiveError, match="without \\.\\."):
        unpack(_tar(dotdot))
    with pytest.raises(ArchiveError, match="not a readable project archive"):
        unpack(b"not gzip")


def test_pack_refuses_bad_names() -> None:
    with pytest.raises(ArchiveError):
        pack({"/abs.dig": b""})
