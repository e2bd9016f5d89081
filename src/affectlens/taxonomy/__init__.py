"""Taxonomy: label sets, VAD anchors, mappings between sets, Parrott's tree.

``convert_scores`` is the one way to move scores between label sets; see
``docs/taxonomy.md`` for the sources, how mappings are built and their semantics.
Importing this package reads no files and imports only numpy; data is loaded lazily
and cached.
"""

from affectlens.taxonomy.label_sets import (
    AnchorSource,
    LabelSet,
    UnknownLabelSet,
    get_label_set,
    label_set_names,
    lexicon_info,
    list_label_sets,
)
from affectlens.taxonomy.mappings import (
    HUB_SET,
    VAD_TEMPERATURE,
    LabelMapping,
    convert_scores,
    grouping,
    mapping,
    references,
    vad_from_scores,
)
from affectlens.taxonomy.parrott import (
    PARROTT_PRIMARIES,
    ParrottPath,
    parrott_groups,
    parrott_path,
    parrott_primary,
    parrott_tree,
    scores_by_parrott,
)

#: The mapping type returned by ``mapping()`` (named ``LabelMapping`` in code to avoid
#: clashing with ``collections.abc.Mapping``).
Mapping = LabelMapping

__all__ = [
    "HUB_SET",
    "PARROTT_PRIMARIES",
    "VAD_TEMPERATURE",
    "AnchorSource",
    "LabelMapping",
    "LabelSet",
    "Mapping",
    "ParrottPath",
    "UnknownLabelSet",
    "convert_scores",
    "get_label_set",
    "grouping",
    "label_set_names",
    "lexicon_info",
    "list_label_sets",
    "mapping",
    "parrott_groups",
    "parrott_path",
    "parrott_primary",
    "parrott_tree",
    "references",
    "scores_by_parrott",
    "vad_from_scores",
]
