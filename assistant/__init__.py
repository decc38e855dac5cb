"""policy-qa's core: documents -> passages -> index -> verbatim, cited answers."""

from assistant.answers import Answer, Citation
from assistant.core import Assistant
from assistant.errors import ConfigurationError, KnowledgeError, PolicyQAError, QuestionError

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "ConfigurationError",
    "KnowledgeError",
    "PolicyQAError",
    "QuestionError",
]
