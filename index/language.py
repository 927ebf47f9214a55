"""Language of an article: detected offline with lingua, or normalised from what a record says."""

from __future__ import annotations

import re
from functools import cache

from lingua import IsoCode639_1, IsoCode639_3, Language, LanguageDetector, LanguageDetectorBuilder

# Why a fixed set and not ``from_all_languages()``: every candidate language costs model loading
# time and memory, and more Latin-script candidates mean more wrong guesses on short texts.
# The default set (the ``languages`` setting) covers the Indian news we expect plus the big world
# languages. lingua 2.1 has no model for Nepali, Kannada, Malayalam or Odia, so those cannot be
# detected (Nepali text comes out as Hindi or Marathi); a record that states them keeps its code.
# Models load lazily, per script, on first use: the build itself is instant, the first
# Latin-script text pays the loading (the service warms it up at start). High-accuracy mode is
# kept: once loaded, detecting an article's language is cheap next to embedding it.
DEFAULT_LANGUAGES = (
    "hi",
    "en",
    "ur",
    "bn",
    "mr",
    "ta",
    "te",
    "gu",
    "pa",
    "fr",
    "de",
    "es",
    "pt",
    "ru",
    "ar",
    "fa",
    "zh",
    "ja",
)

# Below this confidence the detector is guessing (a lone name like "Paris", "OK"): say "unsure".
MIN_CONFIDENCE = 0.5
# The start of an article decides its language; reading more only costs time.
MAX_CHARS = 4000

# Languages lingua has no model for, so ``normalise_language`` still knows their names.
_EXTRA_NAMES = {
    "nepali": "ne",
    "kannada": "kn",
    "malayalam": "ml",
    "odia": "or",
    "oriya": "or",
    "assamese": "as",
    "sindhi": "sd",
    "हिन्दी": "hi",
    "हिंदी": "hi",
}
_CODE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")


@cache
def detector(languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> LanguageDetector:
    """The detector over these ISO 639-1 codes, built once per process and set on first use."""
    return LanguageDetectorBuilder.from_languages(
        *(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in languages)
    ).build()


def detect_language(text: str, languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> str:
    """ISO 639-1 code of the text's language ("hi", "en", ...), or "" when unsure.

    Hindi prose with English names in parentheses is Hindi: the Devanagari words dominate.
    Romanised Hindi ("Modi ne kaha") is Latin script and comes out as English or "".
    """
    sample = text[:MAX_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return ""
    values = detector(tuple(languages)).compute_language_confidence_values(sample)
    if not values or values[0].value < MIN_CONFIDENCE:
        return ""
    return values[0].language.iso_code_639_1.name.lower()


def normalise_language(value: str) -> str:
    """Map what a record says ("Hindi", "hi-IN", "HIN", "hindi") to an ISO 639-1 code; "" if unknown."""
    value = value.strip().lower()
    if not value:
        return ""
    if value in _EXTRA_NAMES:
        return _EXTRA_NAMES[value]
    try:
        return Language.from_str(value).iso_code_639_1.name.lower()
    except ValueError:
        pass
    match = _CODE.match(value)
    if not match:
        return ""
    code = match.group(1)
    if len(code) == 2:
        # Trust a well-formed two-letter code even where lingua has no model ("ne", "kn").
        return code
    try:
        iso3 = IsoCode639_3.from_str(code)
        return Language.from_iso_code_639_3(iso3).iso_code_639_1.name.lower()
    except ValueError:
        return ""
