"""Constants shared by the jpki unit tests (invented people, fixed times)."""

from __future__ import annotations

import datetime as dt

from jpki.certs import BasicFacts, Sex

UTC = dt.UTC
ELECTION_DAY = dt.date(2027, 4, 25)
VOTING_TIME = dt.datetime(2027, 4, 20, 9, 30, tzinfo=UTC)
JST = dt.timezone(dt.timedelta(hours=9))
VOTING_START = dt.datetime(2027, 4, 18, 7, tzinfo=JST)
VOTING_END = dt.datetime(2027, 4, 25, 20, tzinfo=JST)
CERT_FROM = dt.datetime(2025, 1, 10, tzinfo=UTC)
CERT_TO = dt.datetime(2030, 1, 9, tzinfo=UTC)
PASSWORD = "TOHYO2027"
AUTH_PIN = "4321"

TARO = BasicFacts(
    "投票\u3000太郎", dt.date(1990, 6, 15), Sex.MALE, "茨城県つくば市研究学園一丁目1番地1"
)
HANAKO = BasicFacts(
    "選挙\u3000花子", dt.date(1985, 2, 3), Sex.FEMALE, "茨城県つくば市天王台二丁目3番4"
)
