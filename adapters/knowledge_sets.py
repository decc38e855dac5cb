"""Knowledge sets: several folders of documents in one bot, each channel answered from its own.

A small TOML file (`--config FILE`, else $POLICY_QA_CONFIG, else `policy-qa.toml` in the working
directory when there is one) names the sets and maps channels to them:

    default = "hr"                 # optional: what DMs and unmapped channels answer from
    [sets.hr]
    folder = "knowledge/hr"        # relative to this file
    [sets.it]
    folder = "/srv/docs/it"
    [channels]
    C0123ABCD = "it"               # a Slack channel id
    112233445566778899 = "it"      # a Discord channel id (its threads follow it)

Without `default`, DMs and unmapped channels answer from the folder the command would use
without a file (`--knowledge`, $POLICY_QA_KNOWLEDGE, the bundled one), as the set `default`;
a set named `default` takes that place. Every set is loaded once (two names for one folder share
it) with one model, and each follows its folder as one set always did.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import Assistant
from assistant.errors import ConfigurationError
from assistant.text import printable

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_FILE",
    "DEFAULT_SET",
    "KnowledgeSets",
    "SetsConfig",
    "find_config",
    "load_sets",
    "read_config",
]

CONFIG_ENV = "POLICY_QA_CONFIG"
DEFAULT_FILE = "policy-qa.toml"
DEFAULT_SET = "default"
# A set's name is shown in answers: plain words only, so it needs no escaping on any platform.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
_TOP_KEYS = {"sets", "default", "channels"}

# What serve's loader takes: no folder for the command's own (with its --knowledge, a published
# index, its status), else a set's folder; `embedder`, the model the first set loaded.
Loader = Callable[..., Assistant]


@dataclass(frozen=True)
class SetsConfig:
    """A sets file as read and checked: every folder exists, every name is known."""

    path: Path
    folders: dict[str, Path]  # set name -> absolute folder
    default: str  # a name in `folders`, or DEFAULT_SET for the command's own folder
    channels: dict[str, str]  # channel id -> set name


def find_config(
    explicit: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> SetsConfig | None:
    """The sets file `explicit` names, else $POLICY_QA_CONFIG's, else ./policy-qa.toml if it
    exists; None when there is none. ConfigurationError, in one line, for a file named but
    missing or one that cannot be used."""
    env = os.environ if environ is None else environ
    named = explicit or env.get(CONFIG_ENV, "").strip() or None
    if named is None:
        default = (cwd or Path.cwd()) / DEFAULT_FILE
        return read_config(default) if default.is_file() else None
    return read_config(Path(named).expanduser())


def _fail(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(f"{printable(path)}: {why}")


def read_config(path: Path) -> SetsConfig:
    """`path` read and checked (see the module's docstring); ConfigurationError, one line, naming
    the file and what is wrong: not TOML, an unknown key, a set without a folder or whose folder
    does not exist, a channel or default naming no set."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise _fail(path, f"cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise _fail(path, "it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(path, f"not valid TOML: {' '.join(str(e).split())}") from None
    if unknown := sorted(set(raw) - _TOP_KEYS):
        raise _fail(path, f"unknown setting {unknown[0]!r} (the settings are {_listed(_TOP_KEYS)})")
    sets = raw.get("sets")
    if not isinstance(sets, dict) or not sets:
        raise _fail(path, 'no sets: add one as [sets.NAME] with folder = "..."')
    folders = {name: _folder(path, name, spec) for name, spec in sets.items()}
    default = raw.get("default", DEFAULT_SET)
    if not isinstance(default, str) or (default != DEFAULT_SET and default not in folders):
        raise _fail(path, f"default names no set: {default!r} (the sets are {_listed(folders)})")
    channels = raw.get("channels", {})
    if not isinstance(channels, dict):
        raise _fail(path, "[channels] must be a table of channel id = set name")
    known = {*folders, DEFAULT_SET}
    for channel, name in channels.items():
        if not isinstance(name, str) or name not in known:
            raise _fail(path, f"channel {channel} names no set: {name!r} (the sets are "
                        f"{_listed(folders)})")  # fmt: skip
    return SetsConfig(path, folders, default, {str(c): n for c, n in channels.items()})


def _folder(path: Path, name: str, spec: Any) -> Path:
    if not _NAME.fullmatch(name):
        raise _fail(path, f"a set's name is letters, digits, - and _ (at most 40), not {name!r}")
    if not isinstance(spec, dict):
        raise _fail(path, f'set {name!r} must be a table: [sets.{name}] folder = "..."')
    if unknown := sorted(set(spec) - {"folder"}):
        raise _fail(path, f"set {name!r} has an unknown setting {unknown[0]!r} (only folder)")
    folder = spec.get("folder")
    if not isinstance(folder, str) or not folder.strip():
        raise _fail(path, f'set {name!r} has no folder: folder = "..."')
    where = (path.parent / Path(folder).expanduser()).resolve()
    if not where.is_dir():
        raise _fail(path, f"set {name!r}: the folder {printable(where)} does not exist")
    return where


def _listed(names: Any) -> str:
    return ", ".join(sorted(names)) or "none"


class KnowledgeSets:
    """The assistants a bot answers from, by name, and which channel answers from which.

    One set (no file, or a file whose one set is also its `default`; without `default`, the
    command's own folder is a second): `several` is False and answers look exactly as they
    always did. Several: each answer names its set."""

    def __init__(
        self, assistants: Mapping[str, Assistant], default: str, channels: Mapping[str, str]
    ) -> None:
        self.assistants, self.default, self.channels = dict(assistants), default, dict(channels)

    @classmethod
    def single(cls, assistant: Assistant) -> KnowledgeSets:
        return cls({DEFAULT_SET: assistant}, DEFAULT_SET, {})

    @property
    def several(self) -> bool:
        return len(self.assistants) > 1

    @property
    def default_assistant(self) -> Assistant:
        return self.assistants[self.default]

    @property
    def status(self) -> Any:
        """What /healthz reports: the default set's status."""
        return getattr(self.default_assistant, "status", None)

    def pick(self, *channels: str | int | None) -> tuple[str, Assistant]:
        """(name, assistant) for the first of `channels` that is mapped (a thread, then the
        channel it is in), else the default's."""
        for channel in channels:
            if channel is not None and (name := self.channels.get(str(channel))):
                return name, self.assistants[name]
        return self.default, self.default_assistant


def as_sets(source: Assistant | KnowledgeSets) -> KnowledgeSets:
    """`source` as knowledge sets: one assistant is a set of one."""
    return source if isinstance(source, KnowledgeSets) else KnowledgeSets.single(source)


def load_sets(config: SetsConfig | None, load: Loader) -> KnowledgeSets:
    """Load every set `config` names with `load(folder, embedder=...)`, the default first (with
    `load()` when it is the command's own folder); its model is then shared by all. Without a
    file, `load()` alone. Raises what `load` raises (KnowledgeError for an unusable folder)."""
    if config is None:
        return KnowledgeSets.single(load())
    wanted: dict[str, Path | None] = dict(config.folders)
    if config.default == DEFAULT_SET or DEFAULT_SET in config.channels.values():
        wanted.setdefault(DEFAULT_SET, None)  # the command's own folder, unless a set is so named
    order = [config.default, *(name for name in wanted if name != config.default)]
    by_folder: dict[Path | None, Assistant] = {}
    embedder = None
    for name in order:
        folder = wanted[name]
        if folder not in by_folder:  # a folder named twice is indexed once
            loaded = load() if folder is None else load(folder, embedder=embedder)
            by_folder[folder] = loaded
            embedder = embedder or loaded.embedder
    assistants = {name: by_folder[wanted[name]] for name in order}
    return KnowledgeSets(assistants, config.default, config.channels)
