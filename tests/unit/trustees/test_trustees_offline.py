"""Offline duties: a trustee that works from bundles reaches the same outcome, and posts the
same messages, as the same trustee online."""

from __future__ import annotations

import json
from collections import deque

import pytest
from trustees_unit_support import VOTES, encrypt_votes, key_shares, resign, shares_from

from mixnet.errors import DecodeError
from mixnet.rng import DeterministicRandom
from trustees import channel
from trustees.decryption import combine_shares, make_share, rows_digest
from trustees.dkg import DkgTrustee, Phase, RoundClose, derive_public_outcome
from trustees.errors import LocalProtocolError
from trustees.messages import EncryptedShare
from trustees.offline import (
    export_decryption_input,
    export_dkg_input,
    key_share_from_secrets,
    read_decryption_output,
    read_dkg_output,
    run_decryption_offline,
    run_dkg_offline,
)
from trustees.private import TrusteeSecrets
from trustees.testing import make_config, run_ceremony

OFFLINE = 2


def _mixed_ceremony(config, keys, seed, intercept=None):
    """Everyone online but trustee OFFLINE, which works from bundles between board updates."""
    online = {
        i: DkgTrustee(config, i, keys[i - 1], DeterministicRandom(f"{seed}/trustee/{i}"))
        for i in config.indices
        if i != OFFLINE
    }
    secrets = TrusteeSecrets(OFFLINE, config.election, config.group.name, keys[OFFLINE - 1])
    rng = DeterministicRandom(f"{seed}/trustee/{OFFLINE}")
    board: list = []
    queue: deque = deque()
    trips = 0

    def send(msgs):
        for m in msgs:
            queue.extend(intercept(m) if intercept else [m])

    def drain():
        while queue:
            m = queue.popleft()
            board.append(m)
            for t in online.values():
                if t.phase is not Phase.DONE:
                    send(t.feed(m))

    record = next(iter(online.values())).record
    for t in online.values():
        send(t.start())
    while secrets.share is None and trips < 8:
        drain()
        bundle = export_dkg_input(config, OFFLINE, board)
        out, secrets = run_dkg_offline(bundle, secrets, rng)
        send(read_dkg_output(out, config))
        trips += 1
        drain()
        if not record.closed:  # the administrator closes the round
            queue.append(RoundClose(record.next_round()))
    drain()
    return online, secrets, board, trips


def test_offline_trustee_reaches_the_online_outcome(group, size):
    t, n = size
    config, keys = make_config(group, t, n, seed="offline")
    online_run = run_ceremony(config, keys, seed="offline")
    online, secrets, board, trips = _mixed_ceremony(config, keys, "offline")
    assert trips == 4  # dealing; complaints; answers (none); final share
    outcome = derive_public_outcome(board, config)
    assert outcome == online_run.outcome()
    assert all(t.outcome == outcome for t in online.values())
    assert secrets.share == online_run.trustees[OFFLINE].key_share.secret.value
    assert secrets.polynomial is None  # erased once the share is known
    mine = sorted(
        m.to_json() for m in board if not isinstance(m, RoundClose) and m.sender == OFFLINE
    )
    assert mine == sorted(m.to_json() for m in online_run.posted if m.sender == OFFLINE)


def test_offline_dealer_answers_a_complaint(group):
    config, keys = make_config(group, 2, 3, seed="offline-accused")

    def intercept(m):
        if isinstance(m, EncryptedShare) and (m.sender, m.recipient) == (OFFLINE, 1):
            eph, ct = channel.seal_share(
                config, OFFLINE, 1, group.scalar(3), DeterministicRandom(1)
            )
            return [resign(m, keys, ephemeral=eph, ciphertext=ct)]
        return [m]

    online, secrets, board, trips = _mixed_ceremony(config, keys, "offline-accused", intercept)
    assert trips == 4  # dealing; complaints; reveal; final share
    mine = [m.KIND for m in board if not isinstance(m, RoundClose) and m.sender == OFFLINE]
    assert mine[-1] == "dkg.reveal"
    outcome = derive_public_outcome(board, config)
    assert outcome.qualified == (1, 2, 3)
    assert online[1].key_share is not None and secrets.share is not None


def test_offline_decryption_share_equals_the_online_one(ceremony):
    config, keys, run = ceremony
    outcome = run.outcome()
    rows = encrypt_votes(outcome.pk)
    ks = run.trustees[OFFLINE].key_share
    secrets = TrusteeSecrets(
        OFFLINE, config.election, config.group.name, keys[OFFLINE - 1], None, ks.secret.value
    )
    # one list per contest: the offline trustee makes one share per list, in order
    other_list = list(reversed(rows))
    bundle = export_decryption_input(config, OFFLINE, run.events, [("a", rows), ("b", other_list)])
    out = run_decryption_offline(bundle, secrets, DeterministicRandom("offline-share"))
    (contest, share), (other, second) = read_decryption_output(out, config)
    assert (contest, other) == ("a", "b") and second.rows_digest == rows_digest(other_list)
    online = make_share(
        ks, rows, election=config.election, rng=DeterministicRandom("offline-share")
    )
    assert share == online
    shares = shares_from(key_shares(run), rows, config)
    shares[OFFLINE] = share
    result = combine_shares(
        rows,
        list(shares.values()),
        outcome.verification_keys,
        config.threshold,
        election=config.election,
    )
    assert [list(r) for r in result.plaintexts] == VOTES


def test_offline_refuses_someone_elses_secrets(ceremony):
    config, keys, run = ceremony
    secrets = TrusteeSecrets(1, config.election, config.group.name, keys[0])
    bundle = export_dkg_input(config, OFFLINE, run.posted)
    with pytest.raises(LocalProtocolError, match="trustee 1's secrets"):
        run_dkg_offline(bundle, secrets, DeterministicRandom(0))
    with pytest.raises(LocalProtocolError, match="no key share"):
        key_share_from_secrets(secrets, run.outcome())


def test_bundles_are_checked(ceremony):
    config, keys, run = ceremony
    secrets = TrusteeSecrets(OFFLINE, config.election, config.group.name, keys[OFFLINE - 1])
    bundle = export_dkg_input(config, OFFLINE, run.posted)
    with pytest.raises(DecodeError):
        run_dkg_offline(bundle + b" ", secrets, DeterministicRandom(0))
    doc = json.loads(bundle)
    doc["duty"] = "decrypt"
    wrong = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(DecodeError, match=r"expected a dkg bundle"):
        run_dkg_offline(wrong, secrets, DeterministicRandom(0))
    out, _ = run_dkg_offline(export_dkg_input(config, OFFLINE, []), secrets, DeterministicRandom(0))
    doc = json.loads(out)
    doc["trustee"] = 1
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    with pytest.raises(DecodeError, match="only its trustee's messages"):
        read_dkg_output(forged, config)
