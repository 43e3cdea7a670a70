from pathlib import Path

from model_store import InputSpec
from modeling import encode, render
from training.model import train_tokenizer


def test_render_templates_and_braces() -> None:
    spec = InputSpec(template="Q: {prompt}\nA: {response}")
    assert render(spec, "hi {response}", "yo {prompt}") == "Q: hi {response}\nA: yo {prompt}"
    assert render(spec, None, "alone") == "alone"
    assert render(spec, "", "alone") == "alone"


def test_truncation_cuts_prompt_from_left_keeps_response() -> None:
    tok = train_tokenizer(["alpha beta gamma delta epsilon"] * 20, vocab_size=300)
    spec = InputSpec(max_length=12, prefix_ids=(tok.bos_token_id,))
    prompt = " ".join(["alpha"] * 50)
    response = "gamma delta epsilon"
    (ids,) = encode(spec, tok, [(prompt, response)])
    assert len(ids) == 12
    assert ids[0] == tok.bos_token_id
    assert tok.decode(ids[1:]).endswith(response)
    (short,) = encode(spec, tok, [(None, response)])
    assert tok.decode(short[1:]) == response


def test_right_truncation_keeps_start() -> None:
    tok = train_tokenizer(["one two three four five six"] * 20, vocab_size=300)
    spec = InputSpec(max_length=3, truncation_side="right")
    (ids,) = encode(spec, tok, [(None, "one two three four five six")])
    assert len(ids) == 3
    assert tok.decode(ids).startswith("one")


def test_fast_path_equals_tokenizer_call() -> None:
    from modeling.render import _token_ids

    tok = train_tokenizer(["héllo wörld, prices 3.50 {x}\n\nnew line"] * 30, vocab_size=300)
    texts = ["héllo wörld", "", "  spaces  ", "prices 3.50 {x}\n\nnew line", "ünïcödé 😀"]
    assert _token_ids(tok, texts) == tok(texts, add_special_tokens=False)["input_ids"]


def test_chat_template_tokens_survive_truncation_and_the_prompt_is_cut_first(tmp_path: Path) -> None:
    from modeling.loader import load_tokenizer
    from modeling.render import encode_items, fixed_length, input_spec_for

    from .test_import import make_qwen3

    tok = load_tokenizer(make_qwen3(tmp_path / "qwen3"))
    spec = input_spec_for(tok, 40)
    assert spec.chat_template and "{prompt}" in spec.template and "<|im_start|>" in spec.template
    fixed = fixed_length(spec, tok)
    im_start, im_end = tok.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    (ids, long_ids), (short_cut, long_cut) = encode_items(
        spec, tok, [("where is my order " * 20, "thanks"), ("hi", "it arrives tomorrow " * 30)]
    )
    for seq in (ids, long_ids):
        assert len(seq) == 40 and seq.count(im_start) == 2 and seq.count(im_end) == 2  # the template's own, kept
    assert not short_cut and tok.decode(ids).endswith("assistant\nthanks<|im_end|>\n")  # the prompt gave way
    assert long_cut and "hi" not in tok.decode(long_ids[:10]) and fixed < 40  # the response had to be cut too
