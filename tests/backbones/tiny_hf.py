"""Tiny random image-text-to-text models saved locally (no downloads), for the ``hf`` backbone.

Each builder trains a small byte-level BPE tokenizer in memory, wraps it in the architecture's
real processor and saves processor + randomly initialised model to a directory that
``build_vla("hf", model=directory)`` loads exactly like a downloaded checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch

TEXT = (
    "Q: what action should the robot take to push the red star to the top left corner? A: "
    "Plan: pick the apple. Action: what is on the table? a red block and a green ball. "
    "the capital of France is Paris. a lemon is a fruit. two plus one is three. "
    + " ".join(str(k) for k in range(256))
)
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>", "<image>", "<fake_token_around_image>",
            "<global-img>", "<end_of_utterance>"]  # fmt: skip


def tiny_tokenizer(vocab_size: int = 700):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([TEXT] * 4, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
        unk_token="<unk>",
    )  # fmt: skip


def _vision(image_size: int, patch: int):
    from transformers import SiglipVisionConfig

    return SiglipVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        image_size=image_size, patch_size=patch,
    )  # fmt: skip


def _text(kind: str, vocab: int, **ids):
    from transformers import GemmaConfig, LlamaConfig

    cls = GemmaConfig if kind == "gemma" else LlamaConfig
    return cls(
        vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=512,
        **ids,
    )  # fmt: skip


def save_paligemma(directory: Path, image_size: int = 32, patch: int = 8) -> Path:
    from transformers import (
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipImageProcessorPil,
    )

    tok = tiny_tokenizer()
    ip = SiglipImageProcessorPil(size={"height": image_size, "width": image_size})
    ip.image_seq_length = (image_size // patch) ** 2
    proc = PaliGemmaProcessor(image_processor=ip, tokenizer=tok)
    special = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                   pad_token_id=tok.pad_token_id)  # fmt: skip
    config = PaliGemmaConfig(
        vision_config=_vision(image_size, patch),
        text_config=_text("gemma", len(tok), **special),
        image_token_id=proc.image_token_id,
        projection_dim=32,
    )
    config.vision_config.projection_dim = 32
    torch.manual_seed(0)
    PaliGemmaForConditionalGeneration(config).save_pretrained(directory)
    proc.save_pretrained(directory)
    return directory


def save_idefics3(directory: Path, image_size: int = 32, patch: int = 8) -> Path:
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
    )

    tok = tiny_tokenizer()
    scale = 2
    seq = (image_size // patch) ** 2 // scale**2
    ip = Idefics3ImageProcessorPil(
        size={"longest_edge": image_size}, max_image_size={"longest_edge": image_size},
        do_image_splitting=False,
    )  # fmt: skip
    proc = Idefics3Processor(image_processor=ip, tokenizer=tok, image_seq_len=seq)
    special = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                   pad_token_id=tok.pad_token_id)  # fmt: skip
    from transformers import Idefics3VisionConfig

    vision = Idefics3VisionConfig(**_vision(image_size, patch).to_dict())
    config = Idefics3Config(
        vision_config=vision.to_dict(),
        text_config=_text("llama", len(tok), **special).to_dict(),
        image_token_id=proc.image_token_id,
        scale_factor=scale,
    )
    torch.manual_seed(0)
    Idefics3ForConditionalGeneration(config).save_pretrained(directory)
    proc.save_pretrained(directory)
    return directory


BUILDERS = {"paligemma": save_paligemma, "idefics3": save_idefics3}
