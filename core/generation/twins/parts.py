"""Offline tokenizers and text encoders the tiny video twins share (no download: vocabularies from code)."""

from __future__ import annotations

from typing import Any

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
T5_DIM = 32


def t5_tokenizer() -> Any:
    """A character-level sentencepiece-style T5 tokenizer (like the default LTX twin's)."""
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in CHARS] + [("\u2581" + c, -2.5) for c in CHARS]
    return T5TokenizerFast(vocab=pieces, extra_ids=0)


def t5_encoder(umt5: bool = False) -> Any:
    """A 2-layer T5 (or UMT5, as Wan uses) encoder with `T5_DIM` hidden units."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    sizes: dict[str, Any] = dict(vocab_size=128, d_model=T5_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                                 relative_attention_num_buckets=8)
    return UMT5EncoderModel(UMT5Config(**sizes)) if umt5 else T5EncoderModel(T5Config(**sizes))


def clip_tokenizer(max_length: int = 77) -> Any:
    """A character-level BPE CLIP tokenizer, built from a vocabulary in memory."""
    import json
    import tempfile
    from pathlib import Path

    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in CHARS:
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")
        return CLIPTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"),
                             model_max_length=max_length)


# HunyuanVideo's Llama prompt templates, as words: the tiny Llama vocabulary holds them so a templated prompt
# keeps its special markers (the I2V pipeline finds the assistant section by `<|end_header_id|>`).
LLAMA_SPECIAL = ("<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<image>", "<pad>",
                 "<unk>")


def llama_tokenizer(words: str) -> Any:
    """A word-level Llama tokenizer knowing `words` (split like the pre-tokenizer), letters and digits."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import LlamaTokenizerFast

    # Words, single punctuation marks and newlines each become a token, roughly as Llama's BPE counts them.
    split = pre_tokenizers.Split(Regex(r"\w+|[^\w\s]|\n"), "isolated")
    vocab = {token: i for i, token in enumerate(LLAMA_SPECIAL)}
    pieces = [piece for piece, _ in split.pre_tokenize_str(words)] + list(CHARS)
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([split, pre_tokenizers.Split(Regex(r" +"), "removed")])
    tok.add_special_tokens(list(LLAMA_SPECIAL))
    return LlamaTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>",
                              pad_token="<pad>", unk_token="<unk>", add_bos_token=True, add_eos_token=False)
