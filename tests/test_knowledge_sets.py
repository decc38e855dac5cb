"""Knowledge sets: the file read and checked, every set loaded once with one model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.knowledge_sets import (
    DEFAULT_SET,
    KnowledgeSets,
    find_config,
    load_sets,
    read_config,
)
from assistant import Assistant
from assistant.errors import ConfigurationError

HR_QUESTION = "How many days of annual leave do I get?"
IT_QUESTION = "How long must a password be?"

DOCUMENTS = {
    "hr/leave.md": "---\ntitle: Leave policy\npublisher: People team\n---\n# Annual leave\n\n"
    "Full-time staff get 25 days of annual leave a year, plus public holidays.\n\n"
    "Leave must be booked at least two weeks in advance through the HR portal.\n",
    "it/passwords.md": "---\ntitle: Password rules\npublisher: IT\n---\n# Passwords\n\n"
    "Passwords must be at least 14 characters long and are changed every 90 days.\n\n"
    "Never share your password with anyone, including the IT helpdesk.\n",
}


def write_sets(root: Path, channels: dict[str, str] | None = None, extra: str = "") -> Path:
    """Two folders, hr/ and it/, and a policy-qa.toml naming them, in `root`."""
    for name, text in DOCUMENTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    mapped = "".join(f'{channel} = "{name}"\n' for channel, name in (channels or {}).items())
    config = root / "policy-qa.toml"
    config.write_text(
        f'{extra}[sets.hr]\nfolder = "hr"\n\n[sets.it]\nfolder = "it"\n\n[channels]\n{mapped}',
        encoding="utf-8",
    )
    return config


def loader(assistant: Assistant, cache_dir: Path, calls: list[Any] | None = None) -> Any:
    """What `policy-qa serve` passes: load() for its own folder (here the bundled article, the
    session's assistant), load(folder, embedder=...) for a set's."""

    def load(folder: Path | None = None, embedder: Any = None) -> Assistant:
        if calls is not None:
            calls.append((folder, embedder))
        if folder is None:
            return assistant
        return Assistant.load(folder, embedder=embedder or assistant.embedder, cache_dir=cache_dir)

    return load


def two_sets(root: Path, assistant: Assistant, cache_dir: Path, **channels: str) -> KnowledgeSets:
    """hr and it beside the bundled article (the default), `channels` mapped to them."""
    return load_sets(read_config(write_sets(root, channels)), loader(assistant, cache_dir))


def test_each_set_is_loaded_once_with_one_model(
    tmp_path: Path, assistant: Assistant, cache_dir: Path
) -> None:
    config = write_sets(tmp_path, {"C0HR": "hr", "C0IT": "it", "C0ALSO": "hr"})
    (tmp_path / "policy-qa.toml").write_text(
        (tmp_path / "policy-qa.toml").read_text() + '[sets.people]\nfolder = "hr"\n'
    )
    calls: list[Any] = []
    sets = load_sets(read_config(config), loader(assistant, cache_dir, calls))
    assert set(sets.assistants) == {DEFAULT_SET, "hr", "it", "people"} and sets.several
    # The default first, by the command's own loader; then each folder once, with its model.
    assert calls == [
        (None, None),
        (tmp_path / "hr", assistant.embedder),
        (tmp_path / "it", assistant.embedder),
    ]
    assert sets.assistants["people"] is sets.assistants["hr"]
    assert {id(a.embedder) for a in sets.assistants.values()} == {id(assistant.embedder)}
    hr_name, hr = sets.pick("C0HR")
    assert hr_name == "hr" and "25 days" in hr.answer(HR_QUESTION).text
    assert sets.pick("C0IT")[0] == "it" and sets.pick("C0ALSO")[0] == "hr"
    assert sets.pick("C0NOWHERE") == (DEFAULT_SET, assistant) == sets.pick(None)
    assert sets.pick("T0THREAD", "C0IT")[0] == "it"  # a thread answers from its channel's set


def test_one_set_is_several_unless_it_is_the_default(
    tmp_path: Path, assistant: Assistant, cache_dir: Path
) -> None:
    write_sets(tmp_path)  # the folders
    config = tmp_path / "one.toml"
    config.write_text('[sets.hr]\nfolder = "hr"\n')
    beside_default = load_sets(read_config(config), loader(assistant, cache_dir))
    assert set(beside_default.assistants) == {DEFAULT_SET, "hr"} and beside_default.several
    config.write_text('default = "hr"\n[sets.hr]\nfolder = "hr"\n')
    alone = load_sets(read_config(config), loader(assistant, cache_dir))
    assert set(alone.assistants) == {"hr"} and not alone.several  # answers name no set


def test_a_default_set_named_in_the_file_answers_dms(
    tmp_path: Path, assistant: Assistant, cache_dir: Path
) -> None:
    config = read_config(write_sets(tmp_path, {"C0IT": "it"}, extra='default = "hr"\n'))
    calls: list[Any] = []
    sets = load_sets(config, loader(assistant, cache_dir, calls))
    assert sets.default == "hr" and set(sets.assistants) == {"hr", "it"}
    assert calls[0] == (tmp_path / "hr", None)  # the command's own folder is not loaded at all
    assert sets.pick(None)[0] == "hr" and sets.pick("C0IT")[0] == "it"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[sets.hr\nfolder = 'hr'\n", "not valid TOML"),
        ("[sets.hr]\nfolder = 'nowhere'\n", "set 'hr': the folder"),
        ("[sets.hr]\nfoler = 'hr'\n", "set 'hr' has an unknown setting 'foler'"),
        ("[sets.hr]\n", "set 'hr' has no folder"),
        ("[channels]\nC0123 = 'hr'\n", "no sets"),
        (
            "[sets.hr]\nfolder = 'hr'\n[channels]\nC0123 = 'hrr'\n",
            "channel C0123 names no set: 'hrr'",
        ),
        ("default = 'it'\n[sets.hr]\nfolder = 'hr'\n", "default names no set: 'it'"),
        ("[sets.hr]\nfolder = 'hr'\n[knowledge]\nx = 1\n", "unknown setting 'knowledge'"),
        ("[sets.'h r']\nfolder = 'hr'\n", "a set's name is letters"),
    ],
)
def test_a_bad_file_is_one_line_saying_what_is_wrong(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "hr").mkdir()
    (tmp_path / "policy-qa.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        read_config(tmp_path / "policy-qa.toml")
    message = str(raised.value)
    assert said in message and "policy-qa.toml" in message and "\n" not in message


def test_the_file_is_found_by_option_then_environment_then_working_directory(
    tmp_path: Path,
) -> None:
    config = write_sets(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert find_config(None, {}, cwd=other) is None  # no file: one set, as always
    assert find_config(None, {}, cwd=tmp_path).path == config  # type: ignore[union-attr]
    assert find_config(None, {"POLICY_QA_CONFIG": str(config)}, cwd=other) is not None
    assert find_config(str(config), {"POLICY_QA_CONFIG": "/nowhere.toml"}, cwd=other) is not None
    with pytest.raises(ConfigurationError, match="cannot read it"):
        find_config(None, {"POLICY_QA_CONFIG": str(other / "missing.toml")}, cwd=other)
