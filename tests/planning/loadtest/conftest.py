from __future__ import annotations

import pytest

from common.loadtest_terms import Definitions
from planning.slo import SloConfig, load_config


@pytest.fixture(scope="session")
def slos() -> SloConfig:
    """The checkout's config/slo.yaml: the specification's expected results."""
    return load_config()


@pytest.fixture
def terms() -> Definitions:
    return Definitions()
