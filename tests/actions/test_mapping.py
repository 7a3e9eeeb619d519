import functools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rt2.actions import (
    ActionGrammar,
    ActionSpace,
    ActionTokenizer,
    IntegerMapping,
    ReservedMapping,
    build_mapping,
    mapping_from_dict,
)
from rt2.backbones import ByteTokenizer


class WordTokenizer:
    """PaLI-X-like: every integer up to 999 is one token (with its leading space)."""

    vocab_size, pad_id, bos_id, eos_id = 1003, 0, 1, 2
    special_ids = frozenset({0, 1, 2})

    def encode(self, text: str) -> list[int]:
        return [3 + int(w) for w in text.split()]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(f" {i - 3}" for i in ids)


BYTES = ByteTokenizer()
RT2 = ActionTokenizer(ActionSpace.preset("rt2"))
NUM_VALUES = RT2.num_values.tolist()


@functools.cache
def mappings():
    return [
        IntegerMapping(BYTES, NUM_VALUES),
        IntegerMapping(WordTokenizer(), NUM_VALUES),
        ReservedMapping.least_used(BYTES, ["Q: what action should the robot take? A:"], NUM_VALUES),
    ]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_ids_map_back_to_the_same_bins(data):
    bins = np.array([data.draw(st.integers(0, n - 1)) for n in NUM_VALUES])
    for m in mappings():
        ids = m.bins_to_ids(bins)
        assert np.array_equal(m.ids_to_bins(ids), bins)
        grammar = grammars()[mappings().index(m)]
        assert np.array_equal(grammar.parse([*ids, BYTES.eos_id]), bins)


@functools.cache
def grammars():
    return [ActionGrammar(m, eos_id=BYTES.eos_id) for m in mappings()]


def test_integer_mapping_text_is_the_action_string():
    m = IntegerMapping(BYTES, NUM_VALUES)
    bins = np.array([1, 128, 91, 241, 5, 101, 127, 0])
    assert BYTES.decode(m.bins_to_ids(bins)) == " " + RT2.format(bins)
    assert m.tokens_per_action(bins) == 25  # byte tokens: 8 spaces + 17 digits
    assert IntegerMapping(WordTokenizer(), NUM_VALUES).tokens_per_action(bins) == 8


def test_reserved_mapping_picks_unused_ids_and_declares_them():
    corpus = ["hello world", "the robot pushes the red star"]
    m = ReservedMapping.least_used(BYTES, corpus, NUM_VALUES)
    used = {t for text in corpus for t in BYTES.encode(text)}
    assert len(m.token_ids) == 256 and not used & set(m.token_ids)
    assert not BYTES.special_ids & set(m.token_ids)
    # ties broken by highest id: the 256 spare ids at the top of the byte vocabulary
    assert m.id_range == (BYTES.vocab_size - 256, BYTES.vocab_size - 1)
    spec = m.to_dict()
    assert spec["id_range"] == list(m.id_range) and spec["token_ids"] == list(m.token_ids)
    again = mapping_from_dict(spec, BYTES)
    assert isinstance(again, ReservedMapping) and again.token_ids == m.token_ids


def test_reserved_from_frequencies_prefers_rare_ids():
    tok = ByteTokenizer(num_extra=0)  # no spare ids: must pick the rarest bytes
    corpus = ["abc" * 50, "xyz"]
    m = ReservedMapping.least_used(tok, corpus, [2, 2])
    assert not {tok.encode(c)[0] for c in "abcxyz"} & set(m.token_ids)


def test_mapping_errors():
    with pytest.raises(ValueError, match="needs 256 token ids"):
        ReservedMapping(range(3, 10), NUM_VALUES, BYTES.vocab_size)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        ReservedMapping(range(400, 656), NUM_VALUES, BYTES.vocab_size)
    with pytest.raises(KeyError, match="unknown token mapping 'bytes'"):
        build_mapping("bytes", BYTES, NUM_VALUES)
    with pytest.raises(ValueError, match="vocabulary of 515"):
        mapping_from_dict(mappings()[2].to_dict(), ByteTokenizer(num_extra=10))


def test_grammar_rejects_invalid_ids_with_position():
    m = IntegerMapping(BYTES, NUM_VALUES)
    grammar = ActionGrammar(m, eos_id=BYTES.eos_id)
    ids = m.bins_to_ids([1, 128, 91, 241, 5, 101, 127, 0])
    with pytest.raises(ValueError, match="position 1"):
        grammar.parse([ids[0], BYTES.encode("7")[0]])  # terminate may only be 0 or 1
    with pytest.raises(ValueError, match="incomplete action: 2 of 8"):
        grammar.parse(ids[:6])
    assert grammar.max_length == 2 + 7 * 4 + 1  # " 1", seven " 255", EOS
