"""The synthetic web corpus: determinism, disjoint splits, coverage, no actions, true answers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from rt2.data import web_templates as wt
from rt2.data.web import (
    IMAGE_KINDS,
    KINDS,
    WebCorpus,
    WebCorpusConfig,
    concept_coverage,
    exact_match,
    held_out_concepts,
    knowledge_eval_set,
    main,
    vocabulary_texts,
    vqa_eval_set,
)
from rt2.data.web_scenes import CELLS, random_scene, render
from rt2.envs import catalogue, load_suite
from rt2.envs.tabletop.render import Renderer
from rt2.envs.tabletop.suites import SuiteSampler
from rt2.samples import ROBOT_PROMPT, TextSample

N_COVERAGE = 2500
ROBOT_MARK = ROBOT_PROMPT.split("{")[0].removeprefix("Q: ").strip()  # "what action should..."
ACTION_RE = re.compile(r"^\s*-?\d+(\s+-?\d+)+\s*$")  # "1 128 91 241 5 101 127", "3 -2"


def _hash(img: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(img).tobytes()).hexdigest()


def _action_leaks(samples: list[TextSample]) -> list[str]:
    bad = []
    for s in samples:
        text = f"{s.prompt} {s.answer}".lower()
        if ROBOT_MARK in text or "action" in text or ACTION_RE.match(s.answer):
            bad.append(f"{s.prompt} {s.answer}")
    return bad


@pytest.fixture(scope="module")
def corpus_sample() -> list[TextSample]:
    corpus = WebCorpus(WebCorpusConfig(size=N_COVERAGE, seed=0, image_size=64, cache_size=0))
    return [corpus[i] for i in range(N_COVERAGE)]


# ---- config, determinism, splits ------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 0),
        ("seed", -1),
        ("image_size", 8),
        ("split", "test"),
        ("weights", {"captions": 1.0}),
        ("weights", {"caption": -1.0}),
        ("weights", {"caption": 0.0}),
        ("cache_size", -2),
    ],
)
def test_config_errors_name_field_and_value(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field) as err:
        WebCorpusConfig(**{field: value})  # type: ignore[arg-type]
    assert str(value if not isinstance(value, dict) else next(iter(value))) in str(err.value)


def _same(a: TextSample, b: TextSample) -> bool:
    imgs_equal = (a.image is None and b.image is None) or (
        a.image is not None and b.image is not None and np.array_equal(a.image, b.image)
    )
    return imgs_equal and a.prompt == b.prompt and a.answer == b.answer


def test_deterministic_per_seed_and_order_independent() -> None:
    a = WebCorpus(WebCorpusConfig(size=200, seed=3, image_size=48))
    b = WebCorpus(WebCorpusConfig(size=200, seed=3, image_size=48, cache_size=0))
    idx = [0, 7, 199, 42, 7, -1]
    first = [a[i] for i in idx]
    for i, x in zip(idx, first, strict=True):
        assert _same(x, b[i]), i
        assert _same(x, a[i]), i  # the cache returns the same item
    other = WebCorpus(WebCorpusConfig(size=200, seed=4, image_size=48))
    assert sum(_same(a[i], other[i]) for i in range(40)) < 10
    with pytest.raises(IndexError):
        a[200]


def test_train_and_eval_pictures_are_disjoint() -> None:
    n = 300
    train = WebCorpus(WebCorpusConfig(size=n, seed=0, image_size=48, split="train"))
    evals = WebCorpus(WebCorpusConfig(size=n, seed=0, image_size=48, split="eval"))
    h_train = {_hash(s.image) for s in train if s.image is not None}
    h_eval = {_hash(s.image) for s in evals if s.image is not None}
    assert len(h_train) > n // 3 and len(h_eval) > n // 3
    assert not h_train & h_eval
    # a second seed of the same split is a different stream as well
    again = WebCorpus(WebCorpusConfig(size=n, seed=1, image_size=48, split="train"))
    assert not h_train & {_hash(s.image) for s in again if s.image is not None}
    held = vqa_eval_set(40, seed=0, image_size=48)
    assert len(held) == 40 and all(s.image is not None for s in held)
    assert not h_train & {_hash(s.image) for s in held}
    assert [s.prompt for s in held] == [s.prompt for s in vqa_eval_set(40, seed=0, image_size=48)]


def test_images_have_the_configured_shape_and_kinds_follow_weights(
    corpus_sample: list[TextSample],
) -> None:
    corpus = WebCorpus(WebCorpusConfig(size=N_COVERAGE, seed=0, image_size=64))
    kinds = [corpus.kind(i) for i in range(N_COVERAGE)]
    for s, k in zip(corpus_sample, kinds, strict=True):
        if k in IMAGE_KINDS:
            assert s.image is not None and s.image.shape == (64, 64, 3)
            assert s.image.dtype == np.uint8 and s.image.std() > 5  # a real picture
        else:
            assert s.image is None
    share = {k: kinds.count(k) / len(kinds) for k in KINDS}
    w = corpus.config.weights
    for k in KINDS:
        assert abs(share[k] - w[k] / sum(w.values())) < 0.04, (k, share[k])
    only = WebCorpus(WebCorpusConfig(size=50, seed=0, image_size=32, weights={"caption": 1}))
    assert all(s.image is not None and s.image.shape == (32, 32, 3) for s in only)


# ---- format, no actions ----------------------------------------------------------------------
def test_prompts_share_the_qa_format_and_contain_no_actions(
    corpus_sample: list[TextSample],
) -> None:
    for s in corpus_sample:
        assert s.prompt.startswith("Q: ") and s.prompt.endswith(" A:"), s.prompt
        assert s.answer and s.answer == s.answer.strip(), s
    assert not _action_leaks(corpus_sample)
    # the check has teeth
    fake = [
        TextSample(None, ROBOT_PROMPT.format(instruction="push the apple"), "1 128 91"),
        TextSample(None, "Q: what is two plus one? A:", "3 4"),
    ]
    assert len(_action_leaks(fake)) == 2


# ---- coverage ----------------------------------------------------------------------------------
def test_every_entry_and_held_out_concept_is_covered(corpus_sample: list[TextSample]) -> None:
    cov = concept_coverage(corpus_sample)
    assert len(cov["entries"][0]) == len(catalogue())
    for group, (covered, missing) in cov.items():
        assert not missing, f"{group}: missing {sorted(missing)}"
        assert covered, group
    # every catalogue entry is also *seen in a picture* with its name in the text
    pictured = concept_coverage([s for s in corpus_sample if s.image is not None])
    for group in ("entries", "backgrounds", "environments"):
        assert not pictured[group][1], f"{group} never pictured: {sorted(pictured[group][1])}"


def test_coverage_check_can_fail() -> None:
    math_only = WebCorpus(WebCorpusConfig(size=300, seed=0, weights={"math": 1.0}))
    cov = concept_coverage(list(math_only))
    assert cov["entries"][1] and cov["held_out_foreign"][1] and cov["backgrounds"][1]
    assert not cov["held_out_math"][1]  # math words are there
    empty = concept_coverage([])
    assert all(not covered for covered, _ in empty.values())


# ---- robot data holds the concepts out -------------------------------------------------------
def test_seen_robot_episodes_contain_no_held_out_concept() -> None:
    held = held_out_concepts()
    assert len(held["objects"]) >= 20 and len(held["marks"]) >= 25
    assert {"carbonated drink", "yellow fruit"} <= held["facts"]
    assert {"rouge", "schiebe", "empuja"} <= held["foreign"]
    words = held["math"] | held["foreign"]
    rng = np.random.default_rng(0)
    seen = SuiteSampler(load_suite("seen"))
    vocab: set[str] = set()
    for _ in range(300):
        scene, task, _ = seen.sample(rng)
        assert not set(scene.object_names) & held["objects"]
        assert not set(scene.mark_names) & held["marks"]
        assert scene.background not in held["backgrounds"]
        assert scene.environment.name not in held["environments"]
        text = task.instruction.lower()
        assert not [f for f in held["facts"] if re.search(rf"\b{f}\b", text)], text
        vocab |= wt.tokens(text)
    assert not vocab & words, sorted(vocab & words)
    # the same check flags emergent instructions
    emergent = SuiteSampler(load_suite("emergent"))
    ev = set().union(*(wt.tokens(emergent.sample(rng)[1].instruction) for _ in range(200)))
    assert ev & held["foreign"] and ev & held["math"]


# ---- answers are true --------------------------------------------------------------------------
def test_location_answers_match_the_picture() -> None:
    renderer = Renderer(96)
    names = {v: k for k, v in CELLS.items()}
    for i in range(40):
        ws = random_scene(np.random.default_rng([9, i]), texture_seed=i)
        img = render(ws, renderer)
        env = ws.scene.environment
        corners = renderer.world_to_pixel(
            np.array([[-env.width / 2, env.height / 2], [env.width / 2, -env.height / 2]])
        )  # (2, 2): top-left, bottom-right pixels
        placed = {p.name: p.pos for p in (*ws.scene.objects, *ws.scene.marks)}
        for entry, loc in ws.things:
            px = renderer.world_to_pixel(np.array(placed[entry.name]))  # (2,)
            fx, fy = (px - corners[0]) / (corners[1] - corners[0])  # 0..1 right, 0..1 down
            col, row = names[loc]
            assert int(np.clip(fx * 3, 0, 2)) - 1 == col, (entry.name, loc, fx)
            assert 1 - int(np.clip(fy * 3, 0, 2)) == row, (entry.name, loc, fy)
            if entry.kind == "object":  # drawn over the table top
                x, y = np.round(px).astype(int)
                assert np.abs(img[y, x].astype(int) - renderer.background[y, x]).sum() > 0


def test_pointing_answers_are_the_grid_cells_of_the_named_thing() -> None:
    from rt2.data.plan import PlanFormat
    from rt2.data.web_scenes import scattered_scene
    from rt2.data.web_vqa import pointing

    grid = PlanFormat()
    seen_fact = False
    for i in range(60):
        rng = np.random.default_rng([5, i])
        ws = scattered_scene(rng, texture_seed=i)
        prompt, answer = pointing(ws, rng)
        name = prompt.removeprefix("Q: point to the ").removesuffix(". A:")
        match = [(e, xy) for e, xy in ws.positions() if name in (wt.noun(e), *e.facts)]
        assert len(match) == 1, (prompt, [e.name for e, _ in ws.positions()])
        seen_fact |= name in match[0][0].facts
        _, xy = match[0]
        assert np.all(np.abs(xy) < 1)
        assert answer == " ".join(map(str, grid.cells(np.tile(xy, 3))[:2]))
    assert seen_fact
    corpus = WebCorpus(WebCorpusConfig(size=20, seed=0, image_size=64, weights={"pointing": 1}))
    assert all(s.image is not None and s.prompt.startswith("Q: point to the ") for s in corpus)


def test_knowledge_eval_set_is_fixed_and_agrees_with_the_corpus(
    corpus_sample: list[TextSample],
) -> None:
    ks = knowledge_eval_set()
    assert ks == knowledge_eval_set() and len(ks) >= 100
    prompts = dict(ks)
    assert len(prompts) == len(ks), "one answer per question"
    for q, a in [
        ("Q: is a lemon a fruit? A:", "yes"),
        ("Q: what is two plus one? A:", "3"),
        ("Q: what colour is a banana? A:", "yellow"),
        ("Q: what does 'rouge' mean in english? A:", "red"),
    ]:
        assert exact_match(prompts[q], a), q
    shared = [s for s in corpus_sample if s.prompt in prompts]
    assert len(shared) >= 20  # the corpus teaches these questions
    for s in shared:
        assert exact_match(s.answer, prompts[s.prompt]), (s.prompt, s.answer)


def test_hold_out_knowledge_keeps_every_eval_question_out_of_training() -> None:
    text_only = {"facts": 1.0, "math": 1.0, "translation": 1.0}
    held = dict(knowledge_eval_set())

    def asked(hold_out: bool) -> int:
        cfg = WebCorpusConfig(
            size=3000, weights=text_only, cache_size=0, hold_out_knowledge=hold_out
        )
        return sum(s.prompt in held for s in WebCorpus(cfg))

    assert asked(False) >= 100  # by default the corpus teaches them (the tiny model's knowledge)
    assert asked(True) == 0


def test_exact_match_normalises() -> None:
    assert exact_match("Three.", "3") and exact_match("the Banana", "banana")
    assert exact_match("  top left   corner ", "top left corner")
    assert not exact_match("4", "3") and not exact_match("apple", "an orange")


def test_cli_prints_and_saves_a_grid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.png"
    main(["--n", "6", "--grid", str(grid), "--image-size", "48"])
    out = capsys.readouterr().out
    assert out.count("Q: ") == 6
    assert grid.exists() and grid.stat().st_size > 1000


def test_vocabulary_texts_cover_the_corpus_words(corpus_sample: list[TextSample]) -> None:
    vocab = set().union(*(wt.tokens(t) for t in vocabulary_texts()))
    used = set().union(*(wt.tokens(f"{s.prompt} {s.answer}") for s in corpus_sample))
    assert not used - vocab, sorted(used - vocab)[:20]


def test_dialogue_items_ask_several_distinct_questions_about_one_scene():
    from rt2.data.web_vqa import pointing_questions  # noqa: F401  (the pointing half's source)

    corpus = WebCorpus(WebCorpusConfig(size=40, weights={"dialogue": 1.0}, dialogue_turns=6))
    for i in range(10):
        s = corpus[i]
        asked = [s.prompt, *(q for q, _ in s.turns)]
        assert s.image is not None and len(asked) == len(set(asked)) >= 2
        assert any(q.startswith("Q: point to the ") for q in asked)
        assert all(q.startswith("Q: ") and q.endswith(" A:") for q in asked)
        assert all(a for a in [s.answer, *(a for _, a in s.turns)])
    assert corpus[3] == corpus[3]  # deterministic
    with pytest.raises(ValueError, match="dialogue_turns"):
        WebCorpusConfig(dialogue_turns=0)


def test_pointing_answers_follow_the_point_code():
    from rt2.data.plan import LETTERS

    for code, cell in (("digits", r"\d+"), ("letters", f"[{LETTERS}]")):
        corpus = WebCorpus(
            WebCorpusConfig(size=20, weights={"pointing": 1.0}, point_code=code, cache_size=0)
        )
        answers = [corpus[i].answer for i in range(20)]
        assert all(re.fullmatch(rf"{cell} {cell}", a) for a in answers), answers
    with pytest.raises(ValueError, match="point_code"):
        WebCorpusConfig(point_code="roman")


def test_pointing_items_say_where_the_named_thing_is_drawn() -> None:
    """``where`` (the grounding loss's target) is the named thing's centre in the picture: the
    pixels around it change when the scene is drawn without that thing; other questions have
    none."""
    from rt2.data.web_scenes import scattered_scene
    from rt2.data.web_vqa import pointing

    corpus = WebCorpus(WebCorpusConfig(size=8, image_size=128, weights={"pointing": 1.0}))
    for i in range(12):
        rng = np.random.default_rng([7, i])
        ws = scattered_scene(rng, texture_seed=i)
        image = render(ws, corpus._renderer)
        prompt, answer = pointing(ws, rng, corpus._grid)
        where = corpus._where(ws, prompt, answer)  # (K, 4): the named thing as "block"
        assert np.isnan(where[[0, 2]]).all()
        u, v = where[1, :2]
        name, xy = next(
            (e.name, xy) for e, xy in ws.positions() if corpus._grid.point(xy) == answer
        )
        np.testing.assert_allclose(where[1, 2:], xy, atol=1e-6)  # its table position
        other = render(ws.without(name), corpus._renderer)
        x, y = int(u * 128), int(v * 128)
        near = (slice(y - 2, y + 3), slice(x - 2, x + 3))  # 5 x 5 px around it
        drawn = np.abs(image[near].astype(int) - other[near].astype(int)).sum(-1)
        assert drawn.max() > 30 and (drawn > 30).mean() > 0.3, (i, name)
        assert corpus._where(ws, "Q: what colour is the star? A:", "red") is None
    assert all(s.where is not None for s in corpus)
    dialogues = WebCorpus(WebCorpusConfig(size=30, weights={"dialogue": 1.0}))
    firsts = [(s.prompt.startswith("Q: point to the "), s.where is not None) for s in dialogues]
    assert all(p == w for p, w in firsts) and {p for p, _ in firsts} == {True, False}
