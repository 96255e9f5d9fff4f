"""Fixtures for the jpki unit tests: a test CA, virtual cards, invented voters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from jpki_unit_support import AUTH_PIN, CERT_FROM, CERT_TO, PASSWORD, TARO, UTC

from jpki.card import JpkiCard
from jpki.certs import BasicFacts, CertPurpose, TrustAnchors
from jpki.testca import TestCa, pooled_rsa_key
from jpki.transport import InProcessTransport
from jpki.virtual_card import IssuedCard, issue_virtual_card


@pytest.fixture(scope="session")
def test_ca() -> TestCa:
    return TestCa.create(label="unit")


@pytest.fixture(scope="session")
def other_ca() -> TestCa:
    return TestCa.create(label="unit-other")


@pytest.fixture(scope="session")
def crl_window() -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime(2027, 4, 1, tzinfo=UTC), dt.datetime(2027, 5, 31, tzinfo=UTC)


@pytest.fixture
def anchors_for(
    test_ca: TestCa, crl_window: tuple[dt.datetime, dt.datetime]
) -> Callable[..., TrustAnchors]:
    def make(revoked: tuple[int, ...] = (), *, with_crl: bool = True) -> TrustAnchors:
        crls = ()
        if with_crl:
            this, nxt = crl_window
            crls = (
                test_ca.crl(CertPurpose.SIGN, revoked, this_update=this, next_update=nxt),
                test_ca.crl(CertPurpose.AUTH, (), this_update=this, next_update=nxt),
            )
        return TrustAnchors(test_ca.certificates, crls)

    return make


@pytest.fixture
def issue(test_ca: TestCa) -> Callable[..., IssuedCard]:
    """Issue a virtual card; keys come from a per-label pool (RSA generation is slow)."""

    def make(
        facts: BasicFacts = TARO,
        *,
        label: str = "taro",
        ca: TestCa | None = None,
        password: str = PASSWORD,
        auth_pin: str = AUTH_PIN,
        not_before: dt.datetime = CERT_FROM,
        not_after: dt.datetime = CERT_TO,
        **kwargs: object,
    ) -> IssuedCard:
        return issue_virtual_card(
            ca or test_ca,
            facts,
            sign_password=password,
            auth_pin=auth_pin,
            not_before=not_before,
            not_after=not_after,
            sign_key=pooled_rsa_key(f"{label}-sign"),
            auth_key=pooled_rsa_key(f"{label}-auth"),
            **kwargs,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def taro_card(issue: Callable[..., IssuedCard]) -> IssuedCard:
    return issue()


@pytest.fixture
def card(taro_card: IssuedCard) -> JpkiCard:
    c = JpkiCard(InProcessTransport(taro_card.card))
    c.select_ap()
    return c
