"""The shared vocabulary of an election: manifest, definition, record entry bodies."""

from election.entries import Ballot, ballot_context, ballot_hash, mix_context
from election.manifest import Contest, Eligibility, Manifest, MixServer, Option, Trustee

__all__ = [
    "Ballot",
    "Contest",
    "Eligibility",
    "Manifest",
    "MixServer",
    "Option",
    "Trustee",
    "ballot_context",
    "ballot_hash",
    "mix_context",
]
