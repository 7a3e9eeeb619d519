"""An offline English text corpus for picking the ``reserved`` action ids of a real tokenizer.

PaLM-E overwrites the least used tokens of its vocabulary. Without web access we count token
frequencies over text available offline: the interactive-help topics of the Python standard
library (``pydoc_data.topics``, ~0.5 MB of English prose and code), the words of rt2's object
catalogue (names, categories, colours, facts: what instructions and the web corpus talk about)
and, for every word seen, its lower-case, capitalised and space-prefixed forms (so a word that
occurs only as "scene" still rules out the token "Scene"). rt2's prompts are added by
``build_vla``. Ids no text produces rank first (ties go to the highest id, as in OpenVLA), so
the chosen 256 are late BPE merges that no text here produces.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _catalogue_text() -> list[str]:
    try:
        from rt2.envs.tabletop.catalogue import catalogue
    except ImportError:  # the simulator is optional for backbones
        return []
    out = []
    for e in catalogue().values():
        out += [e.name, e.category, e.colour, e.shape, e.description, *e.facts, *e.words]
    return [t for t in out if t]


@lru_cache(maxsize=1)
def offline_corpus() -> tuple[str, ...]:
    """Paragraphs of English text available offline, plus word-form variants."""
    from pydoc_data.topics import topics

    texts = [t for t in topics.values() if t.strip()] + _catalogue_text()
    words = sorted({w for t in texts for w in re.findall(r"[A-Za-z]+", t)})
    forms = {f for w in words for f in (w.lower(), w.capitalize(), w.upper())}
    variants = " ".join(sorted(forms)) + "\n" + "".join(sorted(forms))
    return (*texts, variants)
