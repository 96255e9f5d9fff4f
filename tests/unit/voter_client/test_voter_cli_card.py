"""`tohyo vote cast`'s card step: a card that answers nonsense is a plain error, no traceback."""

from __future__ import annotations

import pytest

from tests.card_support import Garbled, Silent
from tohyo.cli import CliError
from voter_client.cli import _sign_on_card


@pytest.mark.parametrize("card", [Garbled, Silent])
def test_a_card_that_answers_nonsense_is_a_plain_error(
    card: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOHYO_CARD_PASSWORD", "ABC123")
    with pytest.raises(CliError, match="the card cannot be read"):
        _sign_on_card(card(), None, None)
