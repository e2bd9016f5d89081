"""The common test: every registered recognizer meets the contract (``check_recognizer``).

A recognizer is skipped, with the reason, only when it cannot be built here: its extra
is not installed (``ImportError``) or its model files are not in place (a shipped model
before its weights land).  Any other load error fails.
"""

from __future__ import annotations

import re

import pytest

from affectlens import registry
from affectlens.testing import check_recognizer, sample_inputs_for

SPECS = registry.available()
_MISSING_FILES = re.compile(r"\b(missing|not found|no \S+ in model folder)\b", re.IGNORECASE)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_recognizer_meets_the_contract(spec: registry.RecognizerSpec) -> None:
    try:
        recognizer = spec.build()
        recognizer.load()
    except ImportError as exc:
        pytest.skip(
            f"{spec.name} needs a package that is not installed ({exc.name or exc}); "
            "install its extra to run this check"
        )
    except Exception as exc:
        if isinstance(exc, FileNotFoundError) or _MISSING_FILES.search(str(exc)):
            pytest.skip(f"{spec.name}: model files not in place ({exc})")
        raise
    assert recognizer.name == spec.name, "the registered name and the recognizer's name must agree"
    assert recognizer.modality == spec.modality and recognizer.label_set == spec.label_set
    check_recognizer(recognizer, sample_inputs_for(spec.modality), factory=spec.build)
