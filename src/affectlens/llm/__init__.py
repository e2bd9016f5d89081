"""Talking to the user's own LLM: config, client, cache, prompts, tolerant parsing, vocabulary.

Light to import (httpx is imported when a client is first used).  The recognizer built on
it is ``affectlens.recognizers.llm.LLMRecognizer``; see ``docs/llm.md``.
"""

from affectlens.llm.config import LLMConfig, LLMNotConfigured, resolve_config
from affectlens.llm.dialogue import Dialogue
from affectlens.llm.prompts import EMOTION_STIMULI, PROMPT_VARIANTS, FewShotExample

__all__ = [
    "EMOTION_STIMULI",
    "PROMPT_VARIANTS",
    "Dialogue",
    "FewShotExample",
    "LLMConfig",
    "LLMNotConfigured",
    "resolve_config",
]
