"""Errors the core raises for problems a user can fix.

    PolicyQAError
    ├── KnowledgeError      the knowledge folder is missing, empty or has nothing readable
    ├── QuestionError       the question is empty or too long
    └── ConfigurationError  a setting (argument or environment variable) has a value we cannot use

Catch `PolicyQAError` at the edge (CLI, chat adapters) and show its message: it is written for the
person who asked. "The documents don't say" is a normal `Answer`, never an exception.
"""


class PolicyQAError(Exception):
    """Base class: a problem with the user's input, explained in the message."""


class KnowledgeError(PolicyQAError):
    """The knowledge folder cannot be used (missing, empty, nothing readable in it)."""


class QuestionError(PolicyQAError):
    """The question cannot be answered as asked (empty, too long)."""


class ConfigurationError(PolicyQAError):
    """A setting, from an argument or the environment, has a value that cannot be used."""
