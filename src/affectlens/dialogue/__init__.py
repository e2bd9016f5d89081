"""Conversations: dialogue readers, the ERC contract, the context-free baseline, emotion shifts.

Importing this package imports no model runtime; see ``docs/conversations.md``.
"""

from affectlens.dialogue.conversation import (
    ConversationRecognizer,
    EmotionShift,
    TrajectoryPoint,
    TurnInContext,
    UtteranceBaseline,
    analyze_dialogue,
    analyze_dialogues,
    emotion_shifts,
    speaker_trajectories,
    turns_in_context,
    with_shift_cues,
)
from affectlens.dialogue.io import (
    DIALOGUE_SUFFIXES,
    DialogueFormatError,
    build_dialogue,
    read_dialogues,
    read_json_dialogues,
    read_subtitles,
    read_turn_table,
)
from affectlens.dialogue.types import UNKNOWN_SPEAKER, Dialogue, Turn

__all__ = [
    "DIALOGUE_SUFFIXES",
    "UNKNOWN_SPEAKER",
    "ConversationRecognizer",
    "Dialogue",
    "DialogueFormatError",
    "EmotionShift",
    "TrajectoryPoint",
    "Turn",
    "TurnInContext",
    "UtteranceBaseline",
    "analyze_dialogue",
    "analyze_dialogues",
    "build_dialogue",
    "emotion_shifts",
    "read_dialogues",
    "read_json_dialogues",
    "read_subtitles",
    "read_turn_table",
    "speaker_trajectories",
    "turns_in_context",
    "with_shift_cues",
]
