"""Which answerers the chat offers: read once from the service, shown as the answer toggle.

The service names its answerers in ``alternatives`` ("extractive" always, "generated" when a
language model is connected) and answers with ``answerer`` by default. The toggle is shown only
when there is a choice; a service without names (an older one, or a test fake) is asked without
one, so it answers as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PureWindowsPath
from typing import Any

GENERATED = "generated"
LABELS = {
    "extractive": "Quoted sentences",
    GENERATED: "Written by the language model",
}


@dataclass(frozen=True)
class AnswererChoice:
    names: tuple[str, ...] = ()  # what a question may choose, in the service's order
    default: str | None = None  # what the service answers with when asked without a name
    model: str = ""  # the connected model's name, for the label on a generated answer

    @property
    def offered(self) -> bool:
        """Whether the toggle is shown: only when a language model is connected."""
        return GENERATED in self.names

    def radio_choices(self) -> list[tuple[str, str]]:
        return [(LABELS.get(name, name), name) for name in self.names]

    def resolve(self, name: str | None) -> str | None:
        """The name to ask with: the chosen one when the service has it, else None (its default)."""
        return name if name in self.names else None


def answerer_choice(service: Any) -> AnswererChoice:
    """The answerers ``service`` offers, its default among them, and the connected model's name."""
    alternatives = getattr(service, "alternatives", None)
    if not isinstance(alternatives, dict) or not alternatives:
        return AnswererChoice()
    default_answerer = getattr(service, "answerer", None)
    default = next((n for n, a in alternatives.items() if a is default_answerer), None)
    generated = alternatives.get(GENERATED)
    return AnswererChoice(tuple(alternatives), default, model_name(generated) if generated else "")


def model_name(answerer: Any) -> str:
    """The model's own name as its client reports it ("" when it reports none). A local model
    file is named by its file name: the reader has no business with this machine's folders."""
    try:
        name = answerer.llm.metadata.model_name
    except Exception:  # any answerer shape: the label then just says "the language model"
        return ""
    if not isinstance(name, str):
        return ""
    a_file = name.lower().endswith(".gguf") or name.startswith("/") or "\\" in name
    return PureWindowsPath(name).name if a_file else name  # "org/model" names stay whole
