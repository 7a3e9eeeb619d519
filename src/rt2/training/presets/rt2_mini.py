"""The rt2-mini presets: alignment and fine-tuning (issue 5), the acting rt2-mini (issue 15),
v2 (a small VLM first, then the VLA: issue 31) and the Table-6 ablation rows."""

from __future__ import annotations

from dataclasses import replace

from rt2.training.config import DataConfig, ModelConfig, OptimConfig, TrainConfig
from rt2.training.presets.registry import register_preset
from rt2.training.presets.tiny import ECOT_WEB


# ---- rt2-mini: alignment, then fine-tuning vs co-fine-tuning (issue 5) ---------------------
def _rt2_mini(
    weights: dict[str, float],
    steps: int,
    lr: float,
    *,
    init: str | None = None,
    bounds: str = "stats",
    freeze: tuple[str, ...] = (),
) -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(
            backbone="rt2-mini",
            # every stage has the same LoRA (rank 8) on a frozen SmolLM2, so each checkpoint loads
            # into the next (model.init is strict); alignment keeps the LoRA frozen at B = 0, an
            # exact no-op, so only its projector learns
            backbone_options={"freeze_vision": True, "freeze_lm": True, "lora_rank": 8},
            action_space="language_table",
            num_bins=21,  # as the tiny presets: Language-Table's "X Y" with X, Y in -10..+10
            mapping="reserved",
            init=init,
            bounds=bounds,
            freeze=freeze,
        ),
        data=DataConfig(
            weights=weights, web_size=20000, eval_samples=32, web_hold_out_knowledge=True
        ),
        optim=OptimConfig(steps=steps, batch_size=8, lr=lr, warmup_steps=20),
        precision="auto",
        log_every=10,
        eval_every=steps,
        save_every=steps,
        keep_last=1,
    )


@register_preset("rt2-mini-align")
def rt2_mini_align() -> TrainConfig:
    """Alignment (LLaVA stage 1 in miniature): train rt2-mini's projector on web data only.

    Vision and SmolLM2 stay frozen; only the 2-layer MLP projector learns to map EfficientNet
    features into the LM's embedding space from the synthetic captions and visual questions.
    Command: ``rt2 train --preset rt2-mini-align --out runs/rt2-mini-align`` (no robot data);
    measure with ``rt2 eval-knowledge --checkpoint runs/rt2-mini-align --out FILE``.
    Runtime: about 10.5 minutes on 1 CPU thread (300 steps of 8 samples, bf16; ~4
    samples/s; measured 625 s).
    Expected: measured: held-out web loss 3.41 nats/token; held-out VQA likelihood accuracy
    24% (random projector 27.5%, chance 25%), caption retrieval 0% of 20 (chance 5%); greedy
    VQA exact match 0% -> 12.5% (short answers instead of prompt echoes). 2,400 samples are far
    too few to align it. Knowledge answers are the base SmolLM2's by construction (46%
    likelihood accuracy, 0% greedy exact match; notes/rt2-mini-knowledge.md).
    """
    return _rt2_mini({"web": 1.0}, steps=300, lr=1e-3, bounds="fixed", freeze=("backbone.lm.",))


@register_preset("rt2-mini-finetune")
def rt2_mini_finetune() -> TrainConfig:
    """RT-2 "fine-tuned": start from ``runs/rt2-mini-align``, robot data only, LoRA on the LM.

    Command: ``rt2 train --preset rt2-mini-finetune --data data/seen --out
    runs/rt2-mini-finetune`` (override the start with ``model.init=DIR``); then ``rt2 eval
    --policy runs/rt2-mini-finetune`` and ``rt2 eval-knowledge --checkpoint
    runs/rt2-mini-finetune --out FILE``.
    Runtime: about 9.5 minutes on 1 CPU thread (300 steps of 8 samples, bf16; measured
    569 s).
    Expected: measured after 300 steps: held-out action-token accuracy 0.11 (21 bins);
    knowledge likelihood accuracy falls from 46% to 31% (chance 28%) and greedy answers become
    action tokens: robot-only training forgets (notes/rt2-mini-knowledge.md).
    """
    return _rt2_mini({"robot": 1.0}, steps=300, lr=1e-3, init="runs/rt2-mini-align")


@register_preset("rt2-mini-cofinetune")
def rt2_mini_cofinetune() -> TrainConfig:
    """RT-2 "co-fine-tuned": start from ``runs/rt2-mini-align``, robot + web data 50/50, LoRA.

    Command: ``rt2 train --preset rt2-mini-cofinetune --data data/seen --out
    runs/rt2-mini-cofinetune``; then ``rt2 eval --policy runs/rt2-mini-cofinetune`` and ``rt2
    eval-knowledge --checkpoint runs/rt2-mini-cofinetune --out FILE``.
    Runtime: about 11-14 minutes on 1 CPU thread (300 steps of 8 samples, bf16; measured 651 s
    and 837 s on shared cores).
    Expected: measured after 300 steps with the knowledge questions held out of the web data
    (``data.web_hold_out_knowledge``): held-out action-token accuracy 0.06, web loss 1.37;
    knowledge likelihood accuracy 54% and greedy exact match 48% on questions it never trained
    on (base SmolLM2: 46%, 0%; robot-only fine-tuned: 31%, 0%). Closed loop (the run before the
    hold-out, 30 episodes per suite): `seen` 2/30, other suites 0/30; random 0-2/30 on the same
    seeds: it does not act yet (notes/rt2-mini-knowledge.md).
    """
    return _rt2_mini({"robot": 0.5, "web": 0.5}, steps=300, lr=1e-3, init="runs/rt2-mini-align")


# ---- rt2-mini that acts (issue 15): the shipped rt2:rt2-mini ------------------------------
#: rt2-mini as it learns to act: the frozen stride-16 EfficientNet-Lite0 map (8 x 8 = 64 image
#: tokens at 128 px, each cell 16 px: the tabletop's ~8 px objects stay apart) with a learned
#: 2-D position code, prefix-LM attention (image tokens read the instruction), LoRA rank 16 on
#: every linear layer of the frozen SmolLM2, frozen features cached per frame
RT2_MINI_VLA_BACKBONE: dict[str, object] = {
    "freeze_vision": True,
    "freeze_lm": True,
    "lora_rank": 16,
    "lora_targets": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "vision_stride": 16,
    "image_tokens": 64,
    "pos_embed": True,
    "prefix_lm": True,
    "feature_cache": 200_000,
}


def _rt2_mini_vla(weights: dict[str, float], steps: int, **backbone: object) -> TrainConfig:
    return TrainConfig(
        name="rt2-mini",
        model=ModelConfig(
            backbone="rt2-mini",
            backbone_options={**RT2_MINI_VLA_BACKBONE, **backbone},
            action_space="language_table",
            num_bins=21,
            mapping="reserved",
            decoding="parallel",  # all action tokens of the chunk in one pass (OFT)
            chunk=4,
        ),
        data=DataConfig(
            weights=weights,
            web_size=20000,
            web_weights=dict(ECOT_WEB),
            web_hold_out_knowledge=True,
            plan_bins=32,
            eval_samples=32,
        ),
        optim=OptimConfig(steps=steps, batch_size=16, lr=5e-4, warmup_steps=50),
        precision="auto",
        log_every=10,
        eval_every=250,
        save_every=250,
        keep_last=2,
        rollout_every=500,
        rollout_episodes=50,
    )


@register_preset("rt2-mini")
def rt2_mini() -> TrainConfig:
    """RT-2 in miniature that acts: rt2-mini co-fine-tuned on robot + web data (``rt2:rt2-mini``).

    EfficientNet-Lite0 (frozen, stride 16, 64 image tokens) + SmolLM2-135M-Instruct (frozen,
    LoRA rank 16 on every linear layer), prefix-LM attention, grounded plans (``data.plan_bins=32``:
    ``Plan: arm 11 17, block 13 17, goal 27 5. Action:``), then a chunk of 4 actions as RT-2
    tokens in one parallel pass; robot 0.7 / web 0.3 with the pointing-heavy web mix, knowledge
    questions held out. Closed-loop ``seen`` success (50 episodes, seeds 10000+) is logged every
    500 steps: the learning curve is in ``metrics.jsonl``.
    Command: ``rt2 collect --suite seen --episodes 3000 --noise 0.2 --seed 200000 --out
    data/seen3k && rt2 train --preset rt2-mini --data data/seen3k --out runs/rt2-mini``
    (``--resume`` continues it).
    Runtime: measured 2.4 samples/s on 2 CPU cores (AMD EPYC without AMX, bf16): 6000 steps of
    16 take ~11 h, so the run spans sessions (``--resume``, or ``--resume-from
    rt2:rt2-mini-wip``); far less on a GPU.
    Expected: measured at step 1000: `seen` 1/50 (random level), held-out robot loss 0.98
    (``src/rt2/weights/rt2-mini-wip/README.md``, notes/rt2-mini-acts.md).
    """
    return _rt2_mini_vla({"robot": 0.7, "web": 0.3}, steps=6000)


# ---- rt2-mini v2 (issue 31): a small VLM first, then the VLA ----------------------------
#: The VLM stage's web mix: mostly multi-turn dialogues about scattered scenes (half of each
#: dialogue is pointing: the grounding the plans need), plus single captions, VQA and text.
VLM_WEB = {"dialogue": 0.45, "caption": 0.1, "scene_vqa": 0.05, "object_vqa": 0.05}
VLM_WEB |= {"pointing": 0.2, "facts": 0.075, "math": 0.0375, "translation": 0.0375}

#: v2's image side: the instruction FiLMs the projector (as RT-1 conditions its EfficientNet)
#: and a grounding head (rt2.backbones.grounding) learns, from the grounding loss, where the
#: arm, the thing the prompt names and its goal are, so the plan need not be learned by the LM
#: (the VLM without it pointed at chance after 16,000 samples: notes/rt2-mini-v2.md section 6;
#: the head alone places them within 2 plan cells far sooner: section 8)
V2_IMAGE_SIDE: dict[str, object] = {"pos_init": "sincos", "film": True, "ground": True}
V2_GROUNDING_WEIGHT = 1.0


#: v2 writes plan and pointing cells as one letter token per coordinate ("arm Q Q, block A f,
#: goal Y I": 16 tokens instead of 26, rt2.data.plan.LETTERS): each labelled token costs a
#: 49k-word head pass, which made the plan ~25% of a training step
PLAN_CODE_V2 = "letters"


@register_preset("rt2-mini-vlm")
def rt2_mini_vlm() -> TrainConfig:
    """RT-2's starting point in miniature: rt2-mini trained as a VLM on web data only
    (``rt2:rt2-mini-vlm``), before any robot data.

    The ``rt2-mini`` architecture (so its checkpoint starts the VLA stage) with v2's image side
    (``V2_IMAGE_SIDE``: the prompt FiLMs the projector, a grounding head marks the named thing's
    cell, trained by the grounding loss on every pointing question), trained on the web corpus
    alone: multi-turn dialogues about scattered scenes (6 questions per image, half of them
    pointing on the plan grid: ``"point to the red star." -> "Y E"``), single pointing, captions,
    VQA and text knowledge (the knowledge eval questions held out). It starts from the first VLM
    run (``rt2:rt2-mini-vlm-wip``: LoRA, projector, position code; FiLM and the head start new).
    EfficientNet-Lite0 and SmolLM2 stay frozen; the action slots see no data here.
    Command: ``rt2 train --preset rt2-mini-vlm --out runs/rt2-mini-vlm`` (no robot data;
    ``--resume`` continues it); then ``rt2 eval-knowledge --checkpoint runs/rt2-mini-vlm --sets
    knowledge,vqa,caption,pointing``.
    Runtime: spans sessions on 2 CPU cores: the first run trained at 3.6 samples/s (each ~6
    answers) on a Xeon with AMX, so the 3,000 steps of 16 take ~3.7 h.
    Expected: the first run, without FiLM and the head, at step 750 (``rt2:rt2-mini-vlm-wip``):
    knowledge likelihood accuracy 87% (base SmolLM2 46%), VQA 56% (chance 25%), pointing on
    held-out scenes at chance (0.8% within one cell; chance 0.9%). This recipe: not scored yet
    (notes/rt2-mini-v2.md section 7).
    """
    cfg = _rt2_mini_vla({"web": 1.0}, steps=3000, **V2_IMAGE_SIDE)
    return replace(
        cfg,
        model=replace(
            cfg.model,
            bounds="fixed",  # no robot data to take statistics of
            grounding_weight=V2_GROUNDING_WEIGHT,
            init="rt2:rt2-mini-vlm-wip",  # the first VLM run (LoRA, projector); FiLM starts new
        ),
        data=replace(
            cfg.data,
            web_size=200_000,
            web_weights=dict(VLM_WEB),
            plan_bins=0,
            plan_code=PLAN_CODE_V2,
        ),
        rollout_every=0,
    )


#: The VLA stage trains the LoRA of SmolLM2's last 10 of 30 layers only: the VLM stage's
#: projector, position code and lower layers stay as they were, and so do the action slots'
#: query vectors (random, fixed), so nothing below layer 20 needs a backward pass.
V2_TRAIN_LAYERS = 10


@register_preset("rt2-mini-v2")
def rt2_mini_v2() -> TrainConfig:
    """rt2-mini v2's VLA stage: co-fine-tune ``rt2-mini-vlm`` on robot + web data, training the
    upper layers only (candidate recipe of ``rt2:rt2-mini``, issue 31).

    The ``rt2-mini`` recipe (grounded plans, a chunk of 4 actions in one parallel pass, robot
    0.7 / web 0.3), started from the VLM stage's checkpoint, with only the LoRA of SmolLM2's last
    ``V2_TRAIN_LAYERS`` layers learning (``backbone_options.train_layers``). The image side
    learns from the grounding loss (robot frames: arm, block and goal; web pointing: the named
    thing); when acting, the grounding head writes the plan and the LM reads it
    (``model.plan_source="head"``), as it read the true plans in training. Plans are relative
    (``data.plan_relative``: the block's cell offset from the arm, the goal's from the block),
    so the push direction is in the tokens.
    Command: ``rt2 train --preset rt2-mini-v2 --data data/seen3k --out runs/rt2-mini-v2``
    (``model.init=DIR`` names another VLM checkpoint; ``--resume`` continues).
    Runtime: ``rt2 bench --presets rt2-mini,rt2-mini-v2`` measured 12.0 samples/s against
    ``rt2-mini``'s 4.6 (2.62x, Xeon with AMX, 2 cores): 6,000 steps of 16 in ~2.2 h; a slower
    machine of the same name ran it at 3.2-5.2 (session 17).
    Expected: measured to step 2,500 (``rt2:rt2-mini-v2-wip``, 28,000 robot samples, its head
    re-trained on frames the policy reached, one action per call): `seen` 54% [47, 60] over 200
    episodes of 40 steps (``rt2:rt1-wip`` 42 [35, 48] on the same episodes), unseen average 30,
    emergent 14; held-out teacher-forced action-token accuracy 0.24 (chance 0.05)
    (``src/rt2/weights/rt2-mini-v2-wip/README.md``, notes/rt2-mini-v2.md sections 8-10).
    """
    cfg = _rt2_mini_vla(
        {"robot": 0.7, "web": 0.3}, steps=6000, train_layers=V2_TRAIN_LAYERS, **V2_IMAGE_SIDE
    )
    return replace(
        cfg,
        model=replace(
            cfg.model,
            init="rt2:rt2-mini-vlm-wip",  # the VLM stage (FiLM and the head start new)
            freeze=("slots.",),
            grounding_weight=V2_GROUNDING_WEIGHT,
            plan_source="head",
            # re-plan every step: step 2,000, `seen`, 100 episodes at 40 steps: playing 1 / 2 / 4
            # actions per call 54 / 43 / 34%, ACT's ensembling 27% (notes/rt2-mini-v2.md s. 10)
            execute_steps=1,
        ),
        data=replace(cfg.data, plan_code=PLAN_CODE_V2, plan_relative=True),
    )


# ---- the Table 6 ablation rows: a common budget of 5,600 robot samples -------------------
#: the co-fine-tuned run (``rt2-mini``) had passed 5,600 robot samples at step 500 (exported as
#: ``rt2:rt2-mini-co``); these rows see as many, robot data only, on the same schedule cut there
ABLATION_ROBOT_SAMPLES = 5600


def _ablation(**backbone: object) -> TrainConfig:
    cfg = _rt2_mini_vla({"robot": 1.0}, steps=6000, **backbone)
    stop = ABLATION_ROBOT_SAMPLES // cfg.optim.batch_size
    return replace(cfg, optim=replace(cfg.optim, stop_at=stop), rollout_every=0)


@register_preset("rt2-mini-ft")
def rt2_mini_ft() -> TrainConfig:
    """RT-2 "fine-tuned" ablation row (``rt2:rt2-mini-ft``): the ``rt2-mini`` recipe and start
    (pretrained EfficientNet-Lite0 + SmolLM2, LoRA rank 16), robot data only.

    Stops at step 350 (5,600 robot samples, what the co-fine-tuned run had seen at step 500)
    on the headline's 6,000-step cosine, so the three ablation rows share robot samples and
    learning rates. Command: ``rt2 collect --suite seen --episodes 3000 --noise 0.2 --seed
    200000 --out data/seen3k && rt2 train --preset rt2-mini-ft --data data/seen3k --out
    runs/rt2-mini-ft``. Runtime: measured 3.8 samples/s on 2 CPU cores with AMX (Xeon, bf16),
    ~25 minutes; 2.8 samples/s, 34 minutes, on an AMD EPYC without AMX. Expected: held-out robot
    loss 1.12, action token accuracy 0.075, the co-fine-tuned row's at the same robot samples;
    closed loop at random level (``src/rt2/weights/rt2-mini-ft/README.md``).
    """
    return replace(_ablation(), name="rt2-mini-ft")


@register_preset("rt2-mini-scratch")
def rt2_mini_scratch() -> TrainConfig:
    """RT-2 "from scratch" ablation row (``rt2:rt2-mini-scratch``): ``rt2-mini-ft`` with no
    pretrained weights.

    The same architecture and trainable parameters (LoRA rank 16 on every linear layer, the
    projector and position code) on a frozen EfficientNet trunk and SmolLM2 initialised at
    random from ``init_seed`` instead of their pretrained weights: what the pretraining is
    worth at equal recipe and budget. (Training every weight from scratch, as the paper did,
    is ``model.backbone_options=pretrained:false,freeze_lm:false,lora_rank:0``; its export
    holds the whole 135M-parameter LM, 270 MB in bf16, too large to ship in the package.)
    Command: ``rt2 train --preset rt2-mini-scratch --data data/seen3k --out
    runs/rt2-mini-scratch`` (data as ``rt2-mini-ft``). Runtime: 33 min on 2 CPU cores of an AMD
    EPYC without AMX (2.8 samples/s). Expected: held-out robot loss 3.9 (the pretrained rows:
    1.12), closed loop at random level (``src/rt2/weights/rt2-mini-scratch/README.md``).
    """
    return replace(_ablation(pretrained=False, init_seed=0), name="rt2-mini-scratch")
