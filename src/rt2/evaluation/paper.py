"""The papers' own numbers that ``rt2 reproduce`` prints beside ours (success %, real robot).

Facts from ``shared/rt2-paper.md`` (the project's summary of Brohan et al., 2023, "RT-2:
Vision-Language-Action Models Transfer Web Knowledge to Robotic Control", arXiv 2307.15818,
Table 1, the emergent-skill figure and Table 6; and the Language-Table simulation results).
A key the paper does not report is absent: nothing here is interpolated.
"""

from __future__ import annotations

SOURCE = (
    "Brohan et al. 2023, RT-2 (arXiv 2307.15818), as summarised in shared/rt2-paper.md: "
    "real-robot success %"
)

# Table 1 (generalization). Keys: seen, <suite>/easy, <suite>/hard, unseen_avg.
GENERALIZATION: dict[str, dict[str, float]] = {
    "RT-1": {"seen": 92, "unseen_avg": 32},
    "MOO": {"unseen_avg": 35},
    "RT-2-PaLI-X-55B": {
        "seen": 91,
        "unseen_objects/easy": 70,
        "unseen_objects/hard": 62,
        "unseen_backgrounds/easy": 96,
        "unseen_backgrounds/hard": 48,
        "unseen_environments/easy": 63,
        "unseen_environments/hard": 35,
        "unseen_avg": 62,
    },
    "RT-2-PaLM-E-12B": {"seen": 93, "unseen_avg": 62},
}

# Emergent skills. The paper's third category is *human* recognition ("give the coke to the
# person with glasses"); ours is recognition of pictures, flags and logos.
EMERGENT: dict[str, dict[str, float]] = {
    "RT-2-PaLI-X": {"symbol": 82, "reasoning": 46, "recognition": 53, "average": 60},
    "RT-2-PaLM-E": {"symbol": 36, "reasoning": 43, "recognition": 43, "average": 40},
    "RT-1": {"average": 17},
}

# Table 6 (ablation): unseen average by training recipe and model size.
ABLATION: dict[str, dict[str, float]] = {
    "from scratch": {"5B": 9},
    "fine-tuned": {"5B": 42, "55B": 52},
    "co-fine-tuned": {"5B": 44, "55B": 63},
}

# Language-Table simulation: success % +- std over the paper's evaluation.
LANGUAGE_TABLE: dict[str, tuple[float, float]] = {
    "BC-Zero": (72, 3),
    "RT-1": (74, 13),
    "LAVA": (77, 4),
    "RT-2-PaLI-3B": (90, 10),
}

# which paper rows an emergent-skill counterpart goes by (Table 1 name -> emergent name)
EMERGENT_NAME: dict[str, str] = {
    "RT-1": "RT-1",
    "RT-2-PaLI-X-55B": "RT-2-PaLI-X",
    "RT-2-PaLM-E-12B": "RT-2-PaLM-E",
}
